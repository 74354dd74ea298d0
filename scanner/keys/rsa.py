"""The RSA private key check: the CRT arithmetic, done here instead of by OpenSSL.

`cryptography`'s own RSA check (RSA_check_key: primality tests) costs 35-260 ms a
key; the loaders are called with unsafe_skip_rsa_key_validation=True and this
module checks that the stored numbers form one key (RFC 8017 3.2):
n = p*q, e*d = 1 mod lcm(p-1, q-1), dP = d mod (p-1), dQ = d mod (q-1),
qInv*q = 1 mod p.
"""

from __future__ import annotations

import math

from cryptography.hazmat.primitives.asymmetric import rsa

from scanner.errors import KeyProofError

# OpenSSL's OPENSSL_RSA_MAX_MODULUS_BITS; also bounds the arithmetic below.
MAX_RSA_BITS = 16384


def check_rsa_private_key(private_key: rsa.RSAPrivateKey) -> None:
    numbers = private_key.private_numbers()
    n, e = numbers.public_numbers.n, numbers.public_numbers.e
    p, q, d = numbers.p, numbers.q, numbers.d
    if n.bit_length() > MAX_RSA_BITS:
        raise KeyProofError(f"RSA modulus is longer than {MAX_RSA_BITS} bits")
    if p <= 1 or q <= 1 or p == q or p * q != n:
        raise KeyProofError("RSA key is inconsistent: p*q != n")
    if e * d % math.lcm(p - 1, q - 1) != 1:
        raise KeyProofError("RSA key is inconsistent: e*d != 1 mod lcm(p-1, q-1)")
    if numbers.dmp1 != d % (p - 1) or numbers.dmq1 != d % (q - 1):
        raise KeyProofError("RSA key is inconsistent: CRT exponent dP or dQ is wrong")
    if numbers.iqmp * q % p != 1:
        raise KeyProofError("RSA key is inconsistent: CRT coefficient qInv is wrong")
