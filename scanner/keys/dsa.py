"""The DSA private key check (FIPS 186-4 4.1, 4.5): the domain parameters and
the key pair belong together.  Uses pow() only; bounded by the sizes below."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import dsa

from scanner.errors import KeyProofError

# FIPS 186-4 stops at p = 3072 / q = 256 bits; the bounds keep pow() cheap on garbage.
MAX_DSA_P_BITS = 16384
MAX_DSA_Q_BITS = 512


def check_dsa_private_key(private_key: dsa.DSAPrivateKey) -> None:
    numbers = private_key.private_numbers()
    x, y = numbers.x, numbers.public_numbers.y
    parameters = numbers.public_numbers.parameter_numbers
    p, q, g = parameters.p, parameters.q, parameters.g
    if p.bit_length() > MAX_DSA_P_BITS or q.bit_length() > MAX_DSA_Q_BITS:
        raise KeyProofError("DSA parameters are larger than any real key's")
    if q <= 1 or (p - 1) % q != 0:
        raise KeyProofError("DSA parameters are inconsistent: q does not divide p-1")
    if not 1 < g < p or pow(g, q, p) != 1:
        raise KeyProofError("DSA parameters are inconsistent: g does not have order q")
    if not 1 < x < q:
        raise KeyProofError("DSA private key x is outside (1, q)")
    if pow(g, x, p) != y:
        raise KeyProofError("DSA key is inconsistent: y != g^x mod p")
