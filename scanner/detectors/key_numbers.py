"""Canonical DER for keys stored as bare numbers (CNG and CAPI blobs, .NET XML).

Encodings that hold a key as a list of integers are handed to the prover as
the DER structure every other detector produces, so `scanner.keys.prove`
proves them exactly like any other key:

* RSA private: RFC 8017 A.1.2 RSAPrivateKey (version 0).  Encodings that keep
  only p and q (CNG BCRYPT_RSAPRIVATE_BLOB) get d, dP, dQ and qInv computed
  here with plain integer arithmetic (RFC 8017 3.2).
* RSA public: RFC 8017 A.1.1 RSAPublicKey.
* EC private: RFC 5915 ECPrivateKey with the namedCurve and the stated point.
* EC public: RFC 5480 SubjectPublicKeyInfo (id-ecPublicKey, namedCurve).

The checks here are the cheap structural ones that tell a key from garbage
(p*q = n, odd numbers, sizes); the prover still checks all the arithmetic.
Builders return None for numbers that cannot be one key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from scanner.detectors.asn1 import (
    TAG_BIT_STRING,
    TAG_OCTET_STRING,
    TAG_SEQUENCE,
    context_tag,
    encode_integer,
    encode_tlv,
)
from scanner.keys.ec import CURVE_BY_OID, Curve
from scanner.keys.rsa import MAX_RSA_BITS

# OpenSSL refuses RSA keys below 512 bits; nothing smaller is worth a finding.
MIN_RSA_BITS = 512
# Windows 10 1903+ refuses public exponents above 2^64 - 1 (BCRYPT_RSAKEY_BLOB docs).
MAX_PUBLIC_EXPONENT = (1 << 64) - 1

# DER of the OBJECT IDENTIFIERs (X.690 8.19): id-ecPublicKey (RFC 5480 2.1.1)
# and the namedCurve OIDs (RFC 5480 2.1.1.1).
_ID_EC_PUBLIC_KEY = bytes.fromhex("06072A8648CE3D0201")
_NAMED_CURVE_DER = {
    "1.2.840.10045.3.1.7": bytes.fromhex("06082A8648CE3D030107"),  # secp256r1
    "1.3.132.0.34": bytes.fromhex("06052B81040022"),  # secp384r1
    "1.3.132.0.35": bytes.fromhex("06052B81040023"),  # secp521r1
}
P256, P384, P521 = (CURVE_BY_OID[oid] for oid in _NAMED_CURVE_DER)


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


def ec_point(curve: Curve, x: bytes, y: bytes) -> bytes | None:
    """SEC 1 2.3.3 uncompressed point 04 || X || Y, each coordinate curve-sized."""
    size = curve.size_bytes
    if len(x) != size or len(y) != size:
        return None
    return b"\x04" + x + y


def ec_private_der(curve: Curve, scalar: bytes, point: bytes) -> bytes | None:
    """ECPrivateKey { 1, privateKey, [0] namedCurve, [1] publicKey } (RFC 5915 3)."""
    if len(scalar) != curve.size_bytes or not 1 <= int.from_bytes(scalar, "big") < curve.order:
        return None
    parameters = encode_tlv(context_tag(0, constructed=True), _NAMED_CURVE_DER[curve.oid])
    public_key = encode_tlv(
        context_tag(1, constructed=True), encode_tlv(TAG_BIT_STRING, b"\x00" + point)
    )
    fields = encode_integer(1) + encode_tlv(TAG_OCTET_STRING, scalar) + parameters + public_key
    return encode_tlv(TAG_SEQUENCE, fields)


def ec_public_spki(curve: Curve, point: bytes) -> bytes:
    """SubjectPublicKeyInfo { { id-ecPublicKey, namedCurve }, BIT STRING point } (RFC 5480)."""
    algorithm = encode_tlv(TAG_SEQUENCE, _ID_EC_PUBLIC_KEY + _NAMED_CURVE_DER[curve.oid])
    return encode_tlv(TAG_SEQUENCE, algorithm + encode_tlv(TAG_BIT_STRING, b"\x00" + point))
