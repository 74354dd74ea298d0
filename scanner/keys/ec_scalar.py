"""Proving an EC private scalar found for a known public key (PayloadKind.EC_SCALAR).

The payload holds the scalar d (big-endian) and the known key's
SubjectPublicKeyInfo.  d proves the key when 1 <= d < n, d*G equals the known
point, and an ECDSA signature made with d verifies under the known public key
(so the key works in `cryptography`, not only in this arithmetic).
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from scanner.errors import KeyProofError
from scanner.keys.base import Key, KeyKind, Payload
from scanner.keys.describe import key_for
from scanner.keys.ec import curve_of

PROOF_MESSAGE = b"dumpguard: proof of possession of a recovered private key"


def load_known_public_key(payload: Payload) -> PublicKeyTypes:
    """The known key a raw-number payload was found for."""
    if payload.public_spki is None:
        raise KeyProofError(f"{payload.kind.value} without the known public key it belongs to")
    try:
        return serialization.load_der_public_key(payload.public_spki)
    except (ValueError, UnsupportedAlgorithm):
        raise KeyProofError(f"{payload.kind.value}: known public key does not load") from None


def prove_ec_scalar(payload: Payload) -> Key:
    known = load_known_public_key(payload)
    if not isinstance(known, ec.EllipticCurvePublicKey):
        raise KeyProofError("EC scalar found for a public key that is not an EC key")
    curve = curve_of(known.curve)
    if len(payload.data) != curve.size_bytes:
        raise KeyProofError(f"EC scalar is not {curve.size_bytes} bytes long for {curve.name}")
    scalar = int.from_bytes(payload.data, "big")
    if not 1 <= scalar < curve.order:
        raise KeyProofError(f"EC scalar is outside [1, order) of {curve.name}")
    private_key = ec.derive_private_key(scalar, curve.curve)
    if private_key.public_key().public_numbers() != known.public_numbers():
        raise KeyProofError("EC scalar times G is not the known public point")
    _check_signature(private_key, known)
    return key_for(KeyKind.PRIVATE, known)


def _check_signature(
    private_key: ec.EllipticCurvePrivateKey, known: ec.EllipticCurvePublicKey
) -> None:
    algorithm = ec.ECDSA(hashes.SHA256())
    signature = private_key.sign(PROOF_MESSAGE, algorithm)
    try:
        known.verify(signature, PROOF_MESSAGE, algorithm)
    except InvalidSignature:
        raise KeyProofError("signature with the EC scalar fails under the known key") from None
