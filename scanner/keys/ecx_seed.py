"""Proving Ed25519/X25519/Ed448/X448 private bytes found for a known key (PayloadKind.ECX_SEED).

The payload holds the private key bytes (RFC 8032 5.1.5 seed, RFC 7748
section 5 scalar) and the known key's SubjectPublicKeyInfo.  The bytes prove
the key when the public key derived from them equals the known one and the
key works with it: a signature (Ed25519, Ed448) verifies under the known key,
or (X25519, X448, which cannot sign) an exchange with a fresh peer key agrees
from both sides.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, x448, x25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from scanner.errors import KeyProofError
from scanner.keys.base import Key, KeyKind, Payload
from scanner.keys.describe import describe_public_key, key_for
from scanner.keys.ec_scalar import PROOF_MESSAGE, load_known_public_key

# Private key lengths in bytes: RFC 8032 5.1.5 / 5.2.5, RFC 7748 section 5.
_PRIVATE_LENGTHS = {"Ed25519": 32, "X25519": 32, "Ed448": 57, "X448": 56}


def prove_ecx_seed(payload: Payload) -> Key:
    known = load_known_public_key(payload)
    algorithm = describe_public_key(known)[0]
    length = _PRIVATE_LENGTHS.get(algorithm)
    if length is None:
        raise KeyProofError(f"raw private key found for a known {algorithm} key")
    if len(payload.data) != length:
        raise KeyProofError(f"{algorithm} private key is not {length} bytes long")
    private_key = load_raw_private_key(known, payload.data)
    if private_key.public_key() != known:
        raise KeyProofError(f"{algorithm} private key derives a different public key")
    if not _works_with(private_key, known):
        raise KeyProofError(f"{algorithm} private key does not work with the known key")
    return key_for(KeyKind.PRIVATE, known)


def load_raw_private_key(known: PublicKeyTypes, private: bytes) -> PrivateKeyTypes:
    """The private key of the known key's algorithm from its raw bytes."""
    if isinstance(known, ed25519.Ed25519PublicKey):
        return ed25519.Ed25519PrivateKey.from_private_bytes(private)
    if isinstance(known, x25519.X25519PublicKey):
        return x25519.X25519PrivateKey.from_private_bytes(private)
    if isinstance(known, ed448.Ed448PublicKey):
        return ed448.Ed448PrivateKey.from_private_bytes(private)
    if isinstance(known, x448.X448PublicKey):
        return x448.X448PrivateKey.from_private_bytes(private)
    raise KeyProofError("raw private key found for an unsupported known key")


def _works_with(private_key: PrivateKeyTypes, known: PublicKeyTypes) -> bool:
    """A signature the known key verifies, or one exchange with a fresh peer that agrees."""
    if isinstance(private_key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        assert isinstance(known, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey)
        try:
            known.verify(private_key.sign(PROOF_MESSAGE), PROOF_MESSAGE)
        except InvalidSignature:
            return False
        return True
    if isinstance(private_key, x25519.X25519PrivateKey):
        assert isinstance(known, x25519.X25519PublicKey)
        peer = x25519.X25519PrivateKey.generate()
        return private_key.exchange(peer.public_key()) == peer.exchange(known)
    if isinstance(private_key, x448.X448PrivateKey):
        assert isinstance(known, x448.X448PublicKey)
        peer448 = x448.X448PrivateKey.generate()
        return private_key.exchange(peer448.public_key()) == peer448.exchange(known)
    return False
