"""Canonical DER for keys that encodings hold as bare numbers or fields.

CNG and CAPI blobs, .NET XML, JWK, PuTTY PPK and OpenPGP packets keep a key as
a list of numbers; their parsers hand the prover the DER structure every other
detector produces, so `scanner.keys.prove` proves them like any other key:

* RSA private: RFC 8017 A.1.2 RSAPrivateKey (version 0).  Encodings that keep
  only p and q (CNG BCRYPT_RSAPRIVATE_BLOB) get d, dP, dQ and qInv computed
  here with plain integer arithmetic (RFC 8017 3.2).
* DSA private: OpenSSL's traditional DSAPrivateKey SEQUENCE { 0, p, q, g, y, x }.
* EC private on any curve of `scanner.keys.ec.CURVES`: RFC 5915 ECPrivateKey with
  the namedCurve and the stated public point (the prover checks d*G = point).
* RFC 8410 keys (Ed25519, Ed448, X25519, X448): RFC 5958 OneAsymmetricKey v2
  with the stated public key (the prover compares it with the derived one).
* Public halves: RFC 8017 A.1.1 RSAPublicKey, and SubjectPublicKeyInfo (RFC
  5280 4.1) for RSA (rsaEncryption), DSA (RFC 3279 2.3.2), EC (RFC 5480) and
  RFC 8410 keys.

The checks here are the cheap structural ones that tell a key from garbage
(p*q = n, odd numbers, sizes); the prover still checks all the arithmetic.
Builders return None for numbers that cannot be one key; they never raise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from scanner.detectors.asn1 import (
    TAG_BIT_STRING,
    TAG_NULL,
    TAG_OCTET_STRING,
    TAG_SEQUENCE,
    context_tag,
    encode_integer,
    encode_oid,
    encode_tlv,
)
from scanner.detectors.der_spki import DSA, EC, RSA, KeyAlgorithm
from scanner.keys.ec import Curve, point_matches_size
from scanner.keys.rsa import MAX_RSA_BITS

# OpenSSL refuses RSA keys below 512 bits; nothing smaller is worth a finding.
MIN_RSA_BITS = 512
# Windows 10 1903+ refuses public exponents above 2^64 - 1 (BCRYPT_RSAKEY_BLOB docs).
MAX_PUBLIC_EXPONENT = (1 << 64) - 1
# FIPS 186-4 4.2: p of 1024 to 3072 bits; OpenSSL reads up to 10000.  q is 160,
# 224 or 256 bits.
_MAX_DSA_P_BITS = 10000
_MAX_DSA_Q_BITS = 256


@dataclass(frozen=True)
class RsaNumbers:
    """An RSA key as stored; the CRT values and d are None where the encoding omits them."""

    n: int = field(repr=False)
    e: int = field(repr=False)
    p: int = field(repr=False)
    q: int = field(repr=False)
    d: int | None = field(default=None, repr=False)
    dp: int | None = field(default=None, repr=False)
    dq: int | None = field(default=None, repr=False)
    qinv: int | None = field(default=None, repr=False)


def _spki(algorithm_identifier: bytes, public_key: bytes) -> bytes:
    """SubjectPublicKeyInfo { AlgorithmIdentifier, BIT STRING } (RFC 5280 4.1)."""
    algorithm = encode_tlv(TAG_SEQUENCE, algorithm_identifier)
    return encode_tlv(TAG_SEQUENCE, algorithm + encode_tlv(TAG_BIT_STRING, b"\x00" + public_key))


def plausible_rsa_public(n: int, e: int) -> bool:
    """An odd modulus of a size OpenSSL accepts and an odd exponent 3 <= e < n."""
    return (
        MIN_RSA_BITS <= n.bit_length() <= MAX_RSA_BITS
        and n % 2 == 1
        and e % 2 == 1
        and 3 <= e <= MAX_PUBLIC_EXPONENT
        and e < n
    )


def rsa_public_der(n: int, e: int) -> bytes | None:
    """RSAPublicKey ::= SEQUENCE { modulus, publicExponent } (RFC 8017 A.1.1)."""
    if not plausible_rsa_public(n, e):
        return None
    return encode_tlv(TAG_SEQUENCE, encode_integer(n) + encode_integer(e))


def rsa_public_spki(n: int, e: int) -> bytes | None:
    """RSAPublicKey inside rsaEncryption, parameters NULL (RFC 3279 2.3.1)."""
    rsa_public_key = rsa_public_der(n, e)
    if rsa_public_key is None:
        return None
    return _spki(encode_oid(RSA.oid) + encode_tlv(TAG_NULL, b""), rsa_public_key)


def rsa_private_der(numbers: RsaNumbers) -> bytes | None:
    """RSAPrivateKey version 0 (RFC 8017 A.1.2); missing values computed from p, q, e.

    Stored values must agree with p, q and e (RFC 8017 3.2): a blob whose d or
    CRT values were overwritten is no key.  A stored d may be the inverse of e
    modulo (p-1)(q-1) or modulo lcm(p-1, q-1) (Windows versions differ); both
    satisfy e*d = 1 mod lcm(p-1, q-1).
    """
    n, e, p, q = numbers.n, numbers.e, numbers.p, numbers.q
    if not plausible_rsa_public(n, e) or p <= 1 or q <= 1 or p == q or p * q != n:
        return None
    lcm = math.lcm(p - 1, q - 1)
    try:
        d = numbers.d if numbers.d is not None else pow(e, -1, lcm)
        qinv = pow(q, -1, p)
    except ValueError:  # e shares a factor with lcm(p - 1, q - 1): no such key
        return None
    crt_values = (d % (p - 1), d % (q - 1), qinv)
    stored = (numbers.dp, numbers.dq, numbers.qinv)
    if e * d % lcm != 1 or not all(map(_agrees, stored, crt_values)):
        return None
    fields = (0, n, e, d, p, q, *crt_values)
    return encode_tlv(TAG_SEQUENCE, b"".join(encode_integer(value) for value in fields))


def _agrees(stored: int | None, computed: int) -> bool:
    return stored is None or stored == computed


def _plausible_dsa(p: int, q: int, g: int, y: int) -> bool:
    return (
        p.bit_length() <= _MAX_DSA_P_BITS
        and 1 < q.bit_length() <= _MAX_DSA_Q_BITS
        and 1 < g < p
        and 1 < y < p
    )


def dsa_public_spki(p: int, q: int, g: int, y: int) -> bytes | None:
    """id-dsa with Dss-Parms { p, q, g }, the public key y as an INTEGER (RFC 3279 2.3.2)."""
    if not _plausible_dsa(p, q, g, y):
        return None
    parameters = encode_tlv(TAG_SEQUENCE, b"".join(map(encode_integer, (p, q, g))))
    return _spki(encode_oid(DSA.oid) + parameters, encode_integer(y))


def dsa_private_der(p: int, q: int, g: int, y: int, x: int) -> bytes | None:
    if not _plausible_dsa(p, q, g, y) or not 0 < x < q:
        return None
    return encode_tlv(TAG_SEQUENCE, b"".join(map(encode_integer, (0, p, q, g, y, x))))


def ec_point(curve: Curve, x: bytes, y: bytes) -> bytes | None:
    """SEC 1 2.3.3 uncompressed point 04 || X || Y, each coordinate curve-sized."""
    size = curve.size_bytes
    if len(x) != size or len(y) != size:
        return None
    return b"\x04" + x + y


def ec_public_spki(curve: Curve, point: bytes) -> bytes | None:
    """SubjectPublicKeyInfo { { id-ecPublicKey, namedCurve }, BIT STRING point } (RFC 5480)."""
    if not point_matches_size(point, curve):
        return None
    return _spki(encode_oid(EC.oid) + encode_oid(curve.oid), point)


def ec_private_der(curve: Curve, scalar: int, point: bytes) -> bytes | None:
    """ECPrivateKey { 1, privateKey, [0] namedCurve, [1] publicKey } (RFC 5915 3)."""
    if not 1 <= scalar < curve.order or not point_matches_size(point, curve):
        return None
    private_key = encode_tlv(TAG_OCTET_STRING, scalar.to_bytes(curve.size_bytes, "big"))
    parameters = encode_tlv(context_tag(0, constructed=True), encode_oid(curve.oid))
    public_key = encode_tlv(
        context_tag(1, constructed=True), encode_tlv(TAG_BIT_STRING, b"\x00" + point)
    )
    return encode_tlv(TAG_SEQUENCE, encode_integer(1) + private_key + parameters + public_key)


def raw_public_spki(algorithm: KeyAlgorithm, public_key: bytes) -> bytes | None:
    """RFC 8410 4: parameters absent, the raw key as the BIT STRING."""
    if algorithm.raw_key_bytes is None or len(public_key) != algorithm.raw_key_bytes:
        return None
    return _spki(encode_oid(algorithm.oid), public_key)


def raw_private_der(algorithm: KeyAlgorithm, private_key: bytes, public_key: bytes) -> bytes | None:
    """OneAsymmetricKey v2 (RFC 5958 2, RFC 8410 7): CurvePrivateKey and [1] publicKey."""
    size = algorithm.raw_key_bytes
    if size is None or len(private_key) != size or len(public_key) != size:
        return None
    identifier = encode_tlv(TAG_SEQUENCE, encode_oid(algorithm.oid))
    curve_private_key = encode_tlv(TAG_OCTET_STRING, encode_tlv(TAG_OCTET_STRING, private_key))
    stated_public = encode_tlv(context_tag(1, constructed=False), b"\x00" + public_key)
    fields = encode_integer(1) + identifier + curve_private_key + stated_public
    return encode_tlv(TAG_SEQUENCE, fields)
