"""Known-keys seam: one loader per file format a --known-keys file may use.

Loaders are tried in the order `scanner.keys.known` registers them; the first
whose `probe` accepts the file's bytes loads it, and its errors are final (no
second loader is tried, so a user sees the error of the format the file is
in).  Detection is by content, never by file name.

Every error is a `KnownKeyError` whose one-line message names the file, and
the line (or JSON entry) where the format has them.  Messages never hold key
bytes: not the base64, not a PEM body, not a JWK member value.
"""

from __future__ import annotations

import abc
import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.utils import CryptographyDeprecationWarning

from scanner.errors import KeyProofError, KnownKeyError
from scanner.keys.base import KnownKey
from scanner.keys.describe import describe_public_key
from scanner.keys.fingerprint import fingerprint_public_key

PRIVATE_KEY_REFUSAL = "private key in known-keys file; give the public key"


@dataclass(frozen=True)
class LoadedKey:
    """A known key together with the parsed public key it was made from.

    public_key is kept for later stages that need the numbers (recovering a
    private key from raw numbers found in memory checks them against it).
    """

    known: KnownKey
    public_key: PublicKeyTypes = field(repr=False, compare=False)


class KnownKeyLoader(abc.ABC):
    """One input format of --known-keys files."""

    name: ClassVar[str]

    @abc.abstractmethod
    def probe(self, data: bytes, path: Path) -> bool:
        """True when `data` (the whole file) is in this format."""

    @abc.abstractmethod
    def load(self, data: bytes, path: Path) -> list[LoadedKey]:
        """Every public key in `data`, in file order; KnownKeyError on any bad entry."""


def where(path: Path, line: int | None = None) -> str:
    """The "<file>" or "<file>:<line>" prefix of messages and sources."""
    return str(path) if line is None else f"{path}:{line}"


def known_key_error(path: Path, line: int | None, reason: str) -> KnownKeyError:
    return KnownKeyError(f"{where(path, line)}: {reason}")


def loaded_key(public_key: PublicKeyTypes, key_id: str, source: str) -> LoadedKey:
    """A known key described the way proven keys are (scanner.keys.describe).

    `source` is also the message prefix: "<file>" or "<file>:<line>".
    """
    try:
        algorithm, bits, _ = describe_public_key(public_key)
    except KeyProofError:  # finite-field DH: no private key of ours could match it
        raise KnownKeyError(f"{source}: unsupported public key algorithm") from None
    known = KnownKey(
        id=key_id,
        source=source,
        fingerprint=fingerprint_public_key(public_key),
        algorithm=algorithm,
        bits=bits,
    )
    return LoadedKey(known=known, public_key=public_key)


class UnusableCertificateError(Exception):
    """A certificate parsed, but its subject or key does not; the message is safe to show."""


def certificate_key(certificate: x509.Certificate, fallback_id: str, source: str) -> LoadedKey:
    """The subject key of a certificate, named by its RFC 4514 subject.

    cryptography parses subject and key lazily, so errors in them surface
    here, as UnusableCertificateError for the caller to place.
    """
    try:
        subject = certificate.subject.rfc4514_string()
    except (ValueError, TypeError):  # TypeError: a name attribute of the wrong ASN.1 type
        raise UnusableCertificateError("certificate subject does not parse") from None
    try:
        public_key = certificate.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise UnusableCertificateError("certificate key is not a supported public key") from None
    return loaded_key(public_key, subject or fallback_id, source)


@contextlib.contextmanager
def quiet_deprecations() -> Iterator[None]:
    """Silence cryptography's deprecation warnings (ssh-dss, negative certificate serials).

    They are about cryptography's future, not about the user's key, and would
    land in the middle of the scan output.  Known keys load once, before the
    scan threads start, so swapping the warning filters here is safe.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        yield


def load_certificate(der: bytes) -> x509.Certificate:
    """An X.509 certificate from DER; ValueError when it is not one."""
    with quiet_deprecations():
        try:
            return x509.load_der_x509_certificate(der)
        except x509.InvalidVersion:  # not a ValueError; X.509 v2 (1) is not supported
            raise ValueError("unsupported X.509 version") from None
