"""What a report may say about a key: algorithm, size, curve and fingerprint.

bits: the RSA modulus and DSA p size, the EC curve size, and the field size of
the RFC 7748/8032 curves: 255 for Ed25519 and X25519 (p = 2^255 - 19), 448 for
Ed448 and X448 (p = 2^448 - 2^224 - 1).
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from scanner.errors import KeyProofError
from scanner.keys.base import Key, KeyKind
from scanner.keys.ec import curve_of
from scanner.keys.fingerprint import fingerprint_public_key

ALGORITHMS = frozenset({"RSA", "EC", "DSA", "Ed25519", "X25519", "Ed448", "X448"})

_RFC_7748_8032_KEYS: tuple[tuple[type, str, int], ...] = (
    (ed25519.Ed25519PublicKey, "Ed25519", 255),
    (x25519.X25519PublicKey, "X25519", 255),
    (ed448.Ed448PublicKey, "Ed448", 448),
    (x448.X448PublicKey, "X448", 448),
)


def describe_public_key(public_key: PublicKeyTypes) -> tuple[str, int, str | None]:
    """(algorithm, bits, curve) of a key; KeyProofError for algorithms not reported."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return "RSA", public_key.key_size, None
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return "EC", public_key.curve.key_size, curve_of(public_key.curve).name
    if isinstance(public_key, dsa.DSAPublicKey):
        return "DSA", public_key.key_size, None
    for key_type, algorithm, bits in _RFC_7748_8032_KEYS:
        if isinstance(public_key, key_type):
            return algorithm, bits, None
    raise KeyProofError("unsupported public key algorithm")


def key_for(kind: KeyKind, public_key: PublicKeyTypes) -> Key:
    algorithm, bits, curve = describe_public_key(public_key)
    return Key(kind, algorithm, bits, curve, fingerprint_public_key(public_key))
