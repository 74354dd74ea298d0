"""Proving a prime factor found for a known RSA public key (PayloadKind.RSA_FACTOR).

The payload holds a number p (big-endian) and the known key's
SubjectPublicKeyInfo.  p proves the key when 1 < p < n and p divides n: then
q = n / p, d = e^-1 mod lcm(p - 1, q - 1) and the CRT values give the private
key (RFC 8017 3.2), which must sign a fixed message (PKCS#1 v1.5, SHA-256)
that the known public key verifies.  The signature is the proof that the
rebuilt key works in `cryptography`, not only in this arithmetic: a composite
p (a modulus with three or more primes) or p = q gives a key that fails it.

No message names a number: only what is wrong.
"""

from __future__ import annotations

import math

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from scanner.errors import KeyProofError
from scanner.keys.base import Key, KeyKind, Payload
from scanner.keys.describe import key_for

PROOF_MESSAGE = b"dumpguard: proof of possession of a recovered RSA private key"


def prove_rsa_factor(payload: Payload) -> Key:
    known = _known_rsa_key(payload)
    _check_signature(rebuild_rsa_key(payload), known)
    return key_for(KeyKind.PRIVATE, known)


def rebuild_rsa_key(payload: Payload) -> rsa.RSAPrivateKey:
    """The private key the factor and the known modulus make (not yet signature-checked)."""
    public = _known_rsa_key(payload).public_numbers()
    factor = int.from_bytes(payload.data, "big")
    if not 1 < factor < public.n or public.n % factor:
        raise KeyProofError("number is not a factor of the known RSA modulus")
    return _private_key(factor, public)


def _known_rsa_key(payload: Payload) -> rsa.RSAPublicKey:
    if payload.public_spki is None:
        raise KeyProofError("RSA factor without the known public key it belongs to")
    try:
        known = serialization.load_der_public_key(payload.public_spki)
    except (ValueError, UnsupportedAlgorithm):
        raise KeyProofError("RSA factor: known public key does not load") from None
    if not isinstance(known, rsa.RSAPublicKey):
        raise KeyProofError("RSA factor found for a public key that is not an RSA key")
    return known


def _private_key(p: int, public: rsa.RSAPublicNumbers) -> rsa.RSAPrivateKey:
    """The CRT private key of n = p*q (RFC 8017 3.2, second representation)."""
    q = public.n // p
    try:
        d = pow(public.e, -1, math.lcm(p - 1, q - 1))
        iqmp = pow(q, -1, p)
    except ValueError:  # e shares a factor with lcm(p-1, q-1), or p = q
        raise KeyProofError("no RSA private key has this factor and public exponent") from None
    numbers = rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), iqmp, public)
    try:
        return numbers.private_key(unsafe_skip_rsa_key_validation=True)
    except (ValueError, TypeError):
        raise KeyProofError("rebuilt RSA private key does not load") from None


def _check_signature(private_key: rsa.RSAPrivateKey, known: rsa.RSAPublicKey) -> None:
    scheme, digest = padding.PKCS1v15(), hashes.SHA256()
    try:
        signature = private_key.sign(PROOF_MESSAGE, scheme, digest)
        known.verify(signature, PROOF_MESSAGE, scheme, digest)
    except (InvalidSignature, ValueError):
        raise KeyProofError("the rebuilt RSA key's signature fails under the known key") from None
