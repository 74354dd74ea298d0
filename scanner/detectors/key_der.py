"""Canonical DER for keys that text and packet encodings hold as fields (PPK, OpenPGP).

Complements `key_numbers` (RSA, and EC on the NIST curves) with what those
encodings also carry, so `scanner.keys.prove` proves them like any other key:

* DSA private: OpenSSL's traditional DSAPrivateKey SEQUENCE { 0, p, q, g, y, x }.
* EC private on any curve of `scanner.keys.ec.CURVES`: RFC 5915 ECPrivateKey with
  the namedCurve and the stated public point (the prover checks d*G = point).
* RFC 8410 keys (Ed25519, Ed448, X25519, X448): RFC 5958 OneAsymmetricKey v2
  with the stated public key (the prover compares it with the derived one).
* Public halves as SubjectPublicKeyInfo (RFC 5280 4.1): RSA (RFC 8017 A.1.1
  inside rsaEncryption), DSA (RFC 3279 2.3.2), EC (RFC 5480), RFC 8410.

Builders return None for fields that cannot be one key; they never raise.
"""

from __future__ import annotations

from scanner.detectors.asn1 import (
    TAG_BIT_STRING,
    TAG_NULL,
    TAG_OCTET_STRING,
    TAG_OID,
    TAG_SEQUENCE,
    context_tag,
    encode_integer,
    encode_tlv,
)
from scanner.detectors.der_spki import DSA, EC, RSA, KeyAlgorithm
from scanner.detectors.key_numbers import RsaNumbers, rsa_private_der, rsa_public_der
from scanner.keys.ec import Curve, point_matches_size

__all__ = [
    "RsaNumbers",
    "dsa_private_der",
    "dsa_public_spki",
    "ec_private_der",
    "ec_public_spki",
    "encode_oid",
    "raw_private_der",
    "raw_public_spki",
    "rsa_private_der",
    "rsa_public_spki",
]

# FIPS 186-4 4.2: p of 1024 to 3072 bits; OpenSSL reads up to 10000.  q is 160,
# 224 or 256 bits.
_MAX_DSA_P_BITS = 10000
_MAX_DSA_Q_BITS = 256


def encode_oid(dotted: str) -> bytes:
    """OBJECT IDENTIFIER TLV (X.690 8.19) of a dotted OID this module names."""
    arcs = [int(arc) for arc in dotted.split(".")]
    content = b"".join(_base128(arc) for arc in [40 * arcs[0] + arcs[1], *arcs[2:]])
    return encode_tlv(TAG_OID, content)


def _base128(arc: int) -> bytes:
    """X.690 8.19.2: seven bits a byte, most significant first, bit 8 set on all but the last."""
    groups = [(arc >> shift) & 0x7F for shift in range(0, max(arc.bit_length(), 1), 7)]
    return bytes([0x80 | group for group in reversed(groups[1:])] + [groups[0]])


def _spki(algorithm_identifier: bytes, public_key: bytes) -> bytes:
    algorithm = encode_tlv(TAG_SEQUENCE, algorithm_identifier)
    return encode_tlv(TAG_SEQUENCE, algorithm + encode_tlv(TAG_BIT_STRING, b"\x00" + public_key))


def rsa_public_spki(n: int, e: int) -> bytes | None:
    rsa_public_key = rsa_public_der(n, e)
    if rsa_public_key is None:
        return None
    return _spki(encode_oid(RSA.oid) + encode_tlv(TAG_NULL, b""), rsa_public_key)


def _plausible_dsa(p: int, q: int, g: int, y: int) -> bool:
    return (
        p.bit_length() <= _MAX_DSA_P_BITS
        and 1 < q.bit_length() <= _MAX_DSA_Q_BITS
        and 1 < g < p
        and 1 < y < p
    )


def dsa_public_spki(p: int, q: int, g: int, y: int) -> bytes | None:
    if not _plausible_dsa(p, q, g, y):
        return None
    parameters = encode_tlv(TAG_SEQUENCE, b"".join(map(encode_integer, (p, q, g))))
    return _spki(encode_oid(DSA.oid) + parameters, encode_integer(y))


def dsa_private_der(p: int, q: int, g: int, y: int, x: int) -> bytes | None:
    if not _plausible_dsa(p, q, g, y) or not 0 < x < q:
        return None
    return encode_tlv(TAG_SEQUENCE, b"".join(map(encode_integer, (0, p, q, g, y, x))))


def ec_public_spki(curve: Curve, point: bytes) -> bytes | None:
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
