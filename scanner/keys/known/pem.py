"""PEM files (RFC 7468): any number of blocks, with any text between them.

Text between blocks is ignored so `openssl x509 -text` output and annotated
chains load as they are.  Block labels decide the content:

* PUBLIC KEY: SubjectPublicKeyInfo (RFC 7468 section 13)
* RSA PUBLIC KEY: PKCS#1 RSAPublicKey (RFC 8017 A.1.1)
* CERTIFICATE, X509 CERTIFICATE: X.509 certificate (RFC 7468 section 5)
* TRUSTED CERTIFICATE: OpenSSL's certificate followed by trust settings
* anything holding "PRIVATE": refused, the user meant the public half
* EC PARAMETERS and the like: skipped, they hold no key

Any other label is an error: a known-keys file that holds something we skip
would silently match nothing.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from scanner.errors import KnownKeyError
from scanner.keys.known.base import (
    PRIVATE_KEY_REFUSAL,
    KnownKeyLoader,
    LoadedKey,
    UnusableCertificateError,
    certificate_key,
    known_key_error,
    load_certificate,
    loaded_key,
    where,
)
from scanner.keys.known.der import der_element_length

# RFC 7468 section 3: label characters are printable ASCII except "-"; bound the label length.
_BEGIN_LINE = re.compile(rb"-----BEGIN ([\x20-\x2c\x2e-\x7e]{1,64})-----")
_PUBLIC_KEY_LABELS = frozenset({"PUBLIC KEY", "RSA PUBLIC KEY"})
_CERTIFICATE_LABELS = frozenset({"CERTIFICATE", "X509 CERTIFICATE"})
_TRUSTED_CERTIFICATE_LABEL = "TRUSTED CERTIFICATE"
# EC/DH/DSA PARAMETERS hold no key; `openssl ecparam -genkey` writes one before the key.
_PARAMETERS_SUFFIX = "PARAMETERS"


class PemLoader(KnownKeyLoader):
    name = "pem"

    def probe(self, data: bytes, path: Path) -> bool:
        return _BEGIN_LINE.search(data) is not None

    def load(self, data: bytes, path: Path) -> list[LoadedKey]:
        keys: list[LoadedKey] = []
        position = 0
        line = 1
        block_index = 0
        # Terminates: each block ends past its BEGIN line, so `position` grows.
        while (begin := _BEGIN_LINE.search(data, position)) is not None:
            line += data.count(b"\n", position, begin.start())  # each byte counted once
            body, end = _block_body(data, begin, path, line)
            label = begin.group(1).decode("ascii")
            block_index += 1
            if not label.endswith(_PARAMETERS_SUFFIX):
                keys.append(_block_key(label, body, _Place(path, line, block_index)))
            line += data.count(b"\n", begin.start(), end)
            position = end
        return keys


@dataclass(frozen=True)
class _Place:
    """Where a block sits: for messages, the source and the fallback id."""

    path: Path
    line: int
    index: int

    @property
    def source(self) -> str:
        return where(self.path, self.line)

    @property
    def fallback_id(self) -> str:
        return f"{self.path}#{self.index}"

    def error(self, reason: str) -> KnownKeyError:
        return known_key_error(self.path, self.line, reason)


def _block_body(data: bytes, begin: re.Match[bytes], path: Path, line: int) -> tuple[bytes, int]:
    """The bytes between BEGIN and its END line, and the offset after END."""
    end_line = b"-----END " + begin.group(1) + b"-----"
    end_start = data.find(end_line, begin.end())
    if end_start < 0 or _BEGIN_LINE.search(data, begin.end(), end_start) is not None:
        label = begin.group(1).decode("ascii")
        raise known_key_error(path, line, f"PEM block '{label}' has no END line")
    return data[begin.end() : end_start], end_start + len(end_line)


def _block_key(label: str, body: bytes, place: _Place) -> LoadedKey:
    if "PRIVATE" in label:
        raise place.error(PRIVATE_KEY_REFUSAL)
    der = _decode_body(label, body, place)
    if label in _PUBLIC_KEY_LABELS:
        return _public_key(label, der, place)
    if label in _CERTIFICATE_LABELS:
        return _certificate(label, der, place)
    if label == _TRUSTED_CERTIFICATE_LABEL:
        return _certificate(label, _first_element(der), place)
    raise place.error(
        f"PEM block '{label}' holds no public key "
        "(expected PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE)"
    )


def _decode_body(label: str, body: bytes, place: _Place) -> bytes:
    # RFC 7468 section 3: public key and certificate blocks have no headers, only base64.
    try:
        return base64.b64decode(b"".join(body.split()), validate=True)
    except binascii.Error:
        raise place.error(f"PEM block '{label}' is not valid base64") from None


def _public_key(label: str, der: bytes, place: _Place) -> LoadedKey:
    try:
        public_key = serialization.load_der_public_key(der)
    except UnsupportedAlgorithm:
        raise place.error(f"PEM block '{label}' uses an unsupported algorithm") from None
    except ValueError:
        raise place.error(f"PEM block '{label}' does not hold a valid public key") from None
    return loaded_key(public_key, place.fallback_id, place.source)


def _certificate(label: str, der: bytes, place: _Place) -> LoadedKey:
    try:
        certificate = load_certificate(der)
    except ValueError:
        raise place.error(f"PEM block '{label}' does not hold a valid certificate") from None
    try:
        return certificate_key(certificate, place.fallback_id, place.source)
    except UnusableCertificateError as unusable:
        raise place.error(f"PEM block '{label}': {unusable}") from None


def _first_element(der: bytes) -> bytes:
    """The certificate at the front of an OpenSSL TRUSTED CERTIFICATE (X509_AUX follows it)."""
    length = der_element_length(der)
    return der if length is None else der[:length]
