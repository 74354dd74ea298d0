"""SubjectPublicKeyInfo (RFC 5280 4.1) and the key AlgorithmIdentifiers it shares
with PKCS#8.

    SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
                                        subjectPublicKey BIT STRING }

Algorithms and their parameters: rsaEncryption with NULL (RFC 8017 A.1),
RSASSA-PSS with absent or RSASSA-PSS-params (RFC 4055 3.1), id-ecPublicKey
with a namedCurve (RFC 5480 2.1.1), id-dsa with Dss-Parms (RFC 3279 2.3.2),
and the RFC 8410 keys with absent parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.detectors.asn1 import (
    TAG_BIT_STRING,
    TAG_SEQUENCE,
    DerError,
    DerReader,
    read_element,
)
from scanner.detectors.der_base import DerParser
from scanner.detectors.der_pkcs1_public import rsa_public_key_end
from scanner.keys.base import PayloadKind
from scanner.keys.ec import CURVE_BY_OID, Curve, point_matches_size


@dataclass(frozen=True)
class KeyAlgorithm:
    """name: the report name; raw_key_bytes: RFC 8410 key length (both halves), else None."""

    name: str
    oid: str
    raw_key_bytes: int | None = None


RSA = KeyAlgorithm("RSA", "1.2.840.113549.1.1.1")
RSA_PSS = KeyAlgorithm("RSA", "1.2.840.113549.1.1.10")
EC = KeyAlgorithm("EC", "1.2.840.10045.2.1")
DSA = KeyAlgorithm("DSA", "1.2.840.10040.4.1")
X25519 = KeyAlgorithm("X25519", "1.3.101.110", 32)
X448 = KeyAlgorithm("X448", "1.3.101.111", 56)
ED25519 = KeyAlgorithm("Ed25519", "1.3.101.112", 32)
ED448 = KeyAlgorithm("Ed448", "1.3.101.113", 57)
KEY_ALGORITHM_BY_OID = {
    algorithm.oid: algorithm for algorithm in (RSA, RSA_PSS, EC, DSA, X25519, X448, ED25519, ED448)
}


@dataclass(frozen=True)
class AlgorithmIdentifierDer:
    """A key AlgorithmIdentifier; `der` is its whole TLV, `curve` set for EC only."""

    algorithm: KeyAlgorithm
    curve: Curve | None
    der: bytes


def read_key_algorithm(fields: DerReader) -> AlgorithmIdentifierDer:
    element = fields.element(TAG_SEQUENCE)
    identifier = fields.enter(element)
    algorithm = KEY_ALGORITHM_BY_OID.get(identifier.oid())
    if algorithm is None:
        raise DerError(f"unsupported key algorithm at offset {element.offset}")
    curve = _read_parameters(identifier, algorithm)
    identifier.finish()
    return AlgorithmIdentifierDer(algorithm, curve, fields.raw(element))


def _read_parameters(identifier: DerReader, algorithm: KeyAlgorithm) -> Curve | None:
    if algorithm is RSA:
        identifier.null()
    elif algorithm is RSA_PSS:
        identifier.optional(TAG_SEQUENCE)
    elif algorithm is DSA:
        dss_parms = identifier.sequence()
        for _ in range(3):  # p, q, g
            dss_parms.positive_integer_element()
        dss_parms.finish()
    elif algorithm is EC:
        curve = CURVE_BY_OID.get(identifier.oid())
        if curve is None:
            raise DerError(f"unsupported named curve before offset {identifier.position}")
        return curve
    return None


def check_public_key_bits(
    data: bytes, offset: int, end: int, algorithm: AlgorithmIdentifierDer
) -> None:
    """The subjectPublicKey bytes `data[offset:end]` have the algorithm's shape."""
    if algorithm.algorithm.name == "RSA":
        fits = rsa_public_key_end(data, offset, end) == end
    elif algorithm.algorithm is DSA:
        fits = is_lone_positive_integer(data, offset, end)
    elif algorithm.curve is not None:
        fits = point_matches_size(data[offset:end], algorithm.curve)
    else:
        fits = algorithm.algorithm.raw_key_bytes == end - offset
    if not fits:
        raise DerError(f"public key does not fit its algorithm at offset {offset}")


def is_lone_positive_integer(data: bytes, offset: int, end: int) -> bool:
    """`data[offset:end]` is one positive INTEGER (a DSA y, or x inside PKCS#8)."""
    integer = DerReader(data, offset, end)
    integer.positive_integer_element()
    return integer.at_end()


def subject_public_key_info_end(data: bytes, offset: int, limit: int) -> int:
    outer = read_element(data, offset, limit)
    if outer.tag != TAG_SEQUENCE:
        raise DerError(f"not a SubjectPublicKeyInfo at offset {offset}")
    fields = DerReader.over(data, outer)
    algorithm = read_key_algorithm(fields)
    bits = fields.bit_string_element(TAG_BIT_STRING)
    fields.finish()
    check_public_key_bits(data, bits.content_offset + 1, bits.end, algorithm)
    return outer.end


class DerSpkiParser(DerParser):
    name = "der-spki"
    kind = PayloadKind.SPKI
    # RSA 16384 bits: 2.1 KiB; DSA with 16384-bit p and g: 6.2 KiB.
    max_length = 8 * 1024

    def structure_end(self, data: bytes, offset: int, limit: int) -> int:
        return subject_public_key_info_end(data, offset, limit)
