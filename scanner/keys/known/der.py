"""Binary DER files: one SubjectPublicKeyInfo, PKCS#1 RSAPublicKey or X.509 certificate.

All three are a single DER SEQUENCE (X.690 8.9) spanning the whole file, which
is what `probe` checks; which of the three it is, `load` learns by parsing.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

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

_SEQUENCE = 0x30
_MAX_LENGTH_OCTETS = 4  # X.690 8.1.3.5 long form; 4 octets already exceed any file we read


def der_element_length(data: bytes) -> int | None:
    """Header plus contents length of the DER element at data[0].

    None when the length octets are malformed, indefinite (BER, not DER) or
    cut off.  The result may exceed len(data); callers compare.
    """
    if len(data) < 2:
        return None
    first_length_octet = data[1]
    if first_length_octet < 0x80:  # X.690 8.1.3.4 short form
        return 2 + first_length_octet
    octet_count = first_length_octet & 0x7F
    if octet_count == 0 or octet_count > _MAX_LENGTH_OCTETS or len(data) < 2 + octet_count:
        return None
    return 2 + octet_count + int.from_bytes(data[2 : 2 + octet_count], "big")


def is_private_key_der(data: bytes) -> bool:
    """True for a PKCS#8, PKCS#1, SEC1 or encrypted private key, so we can refuse it by name."""
    try:
        serialization.load_der_private_key(data, password=None, unsafe_skip_rsa_key_validation=True)
    except TypeError:  # "password was not given but private key is encrypted"
        return True
    except (ValueError, UnsupportedAlgorithm):
        return False
    return True


class DerLoader(KnownKeyLoader):
    name = "der"

    def probe(self, data: bytes, path: Path) -> bool:
        return data[:1] == bytes([_SEQUENCE]) and der_element_length(data) == len(data)

    def load(self, data: bytes, path: Path) -> list[LoadedKey]:
        source = where(path)
        try:
            certificate = load_certificate(data)
        except ValueError:
            return [_public_key_der(data, path)]
        try:
            return [certificate_key(certificate, f"{path}#1", source)]
        except UnusableCertificateError as unusable:
            raise known_key_error(path, None, str(unusable)) from None


def _public_key_der(data: bytes, path: Path) -> LoadedKey:
    try:
        # Accepts SubjectPublicKeyInfo (RFC 5280 4.1) and PKCS#1 RSAPublicKey (RFC 8017 A.1.1).
        public_key = serialization.load_der_public_key(data)
    except UnsupportedAlgorithm:
        raise known_key_error(path, None, "public key uses an unsupported algorithm") from None
    except ValueError:
        if is_private_key_der(data):
            raise known_key_error(path, None, PRIVATE_KEY_REFUSAL) from None
        raise known_key_error(
            path,
            None,
            "DER data is not a SubjectPublicKeyInfo, PKCS#1 RSA public key or X.509 certificate",
        ) from None
    return loaded_key(public_key, f"{path}#1", where(path))
