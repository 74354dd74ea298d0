"""The byte patterns every copy of a key's secret components can take in memory.

A process holds a key's numbers in more places than the structure a detector
found: OpenSSL keeps p, q, d, dp, dq and qinv as BIGNUM limbs, a JVM as
BigInteger words, a freed DER buffer as big-endian bytes.  To scrub a key,
every copy of every component is wiped, in each layout the raw-number search
knows (scanner.detectors.components):

* ``be``: big-endian bytes, minimal length (a copy padded with leading zero
  bytes ends with it, so the search finds that copy too);
* ``le``: little-endian bytes, minimal length (a limb array padded with high
  zero bytes starts with it);
* ``be32-words-le``: 32-bit words, most significant first, each little-endian.

Components: RSA p, q, d (both the lambda(n) and the phi(n) exponent, since
libraries differ), dp, dq, qinv; the DSA and EC private value (EC also at the
curve's fixed size); the raw private bytes of Ed25519, X25519, Ed448, X448.
Patterns shorter than MIN_PATTERN_BYTES are left out: a short number (a small
public exponent, say) is no secret and would match by chance.

The patterns are secrets: they live only in memory, in this stage, and are
never printed, logged or put in an exception message.
"""

from __future__ import annotations

import math

from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

MIN_PATTERN_BYTES = 16


def secret_patterns(private_key: PrivateKeyTypes) -> frozenset[bytes]:
    """Every layout of every secret component of `private_key`."""
    numbers, fixed_sizes = _components(private_key)
    patterns: set[bytes] = set()
    for value in numbers:
        patterns.update(_layouts(value))
        for size in fixed_sizes:
            if value.bit_length() <= 8 * size:
                patterns.add(value.to_bytes(size, "big"))
    patterns.update(_raw_private_bytes(private_key))
    return frozenset(p for p in patterns if len(p) >= MIN_PATTERN_BYTES)


def _components(private_key: PrivateKeyTypes) -> tuple[list[int], list[int]]:
    """(secret integers, fixed byte sizes they are also stored at)."""
    if isinstance(private_key, rsa.RSAPrivateKey):
        numbers = private_key.private_numbers()
        p, q, e = numbers.p, numbers.q, numbers.public_numbers.e
        d_phi = pow(e, -1, (p - 1) * (q - 1))
        d_lambda = pow(e, -1, math.lcm(p - 1, q - 1))
        secrets = [p, q, numbers.d, d_phi, d_lambda, numbers.dmp1, numbers.dmq1, numbers.iqmp]
        return secrets, [(private_key.key_size + 15) // 16]
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        size = (private_key.curve.key_size + 7) // 8
        return [private_key.private_numbers().private_value], [size]
    if isinstance(private_key, dsa.DSAPrivateKey):
        dsa_numbers = private_key.private_numbers()
        q_size = (dsa_numbers.public_numbers.parameter_numbers.q.bit_length() + 7) // 8
        return [dsa_numbers.x], [q_size]
    return [], []


def _raw_private_bytes(private_key: PrivateKeyTypes) -> list[bytes]:
    raw_types = (
        ed25519.Ed25519PrivateKey,
        x25519.X25519PrivateKey,
        ed448.Ed448PrivateKey,
        x448.X448PrivateKey,
    )
    if isinstance(private_key, raw_types):
        return [private_key.private_bytes_raw()]
    return []


def _layouts(value: int) -> list[bytes]:
    length = max(1, (value.bit_length() + 7) // 8)
    big = value.to_bytes(length, "big")
    padded = value.to_bytes(-(-length // 4) * 4, "big")
    words = b"".join(padded[at : at + 4][::-1] for at in range(0, len(padded), 4))
    return [big, value.to_bytes(length, "little"), words]
