"""PrivateKeyInfo (RFC 5208 5) and OneAsymmetricKey (RFC 5958 2): "BEGIN PRIVATE KEY".

    OneAsymmetricKey ::= SEQUENCE { version (0 = v1, 1 = v2),
        privateKeyAlgorithm AlgorithmIdentifier, privateKey OCTET STRING,
        attributes [0] IMPLICIT SET OPTIONAL,
        publicKey [1] IMPLICIT BIT STRING OPTIONAL  -- v2 only }

The privateKey octets must hold the algorithm's own private key structure:
RSAPrivateKey (RFC 8017), ECPrivateKey (RFC 5915), the DSA x INTEGER
(RFC 5958 / OpenSSL), or an OCTET STRING of the raw RFC 8410 key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scanner.detectors.asn1 import (
    TAG_OCTET_STRING,
    TAG_SEQUENCE,
    DerError,
    DerReader,
    Element,
    context_tag,
    read_element,
)
from scanner.detectors.der_base import DerParser
from scanner.detectors.der_pkcs1 import rsa_private_key_end
from scanner.detectors.der_sec1 import read_ec_private_key
from scanner.detectors.der_spki import (
    DSA,
    EC,
    AlgorithmIdentifierDer,
    check_public_key_bits,
    is_lone_positive_integer,
    read_key_algorithm,
)
from scanner.keys.base import PayloadKind
from scanner.keys.ec import point_matches_size

_ATTRIBUTES_TAG = context_tag(0, constructed=True)
_PUBLIC_KEY_TAG = context_tag(1, constructed=False)
_V1, _V2 = 0, 1


@dataclass(frozen=True)
class PrivateKeyInfoDer:
    """One OneAsymmetricKey: `private_key` is the privateKey OCTET STRING's content,
    `public_key` the v2 publicKey bits (None when absent)."""

    version: int
    algorithm: AlgorithmIdentifierDer
    private_key: bytes = field(repr=False)
    public_key: bytes | None
    end: int


def read_private_key_info(data: bytes, offset: int, limit: int) -> PrivateKeyInfoDer:
    outer = read_element(data, offset, limit)
    fields = DerReader.over(data, outer)
    version = fields.integer() if outer.tag == TAG_SEQUENCE else None
    if version not in (_V1, _V2):
        raise DerError(f"not a PrivateKeyInfo at offset {offset}")
    algorithm = read_key_algorithm(fields)
    private_key = fields.element(TAG_OCTET_STRING)
    _check_private_key(data, private_key, algorithm)
    fields.optional(_ATTRIBUTES_TAG)
    public_key = _read_public_key(fields, data, algorithm) if version == _V2 else None
    fields.finish()
    return PrivateKeyInfoDer(version, algorithm, fields.content(private_key), public_key, outer.end)


def _read_public_key(
    fields: DerReader, data: bytes, algorithm: AlgorithmIdentifierDer
) -> bytes | None:
    if fields.peek_tag() != _PUBLIC_KEY_TAG:
        return None
    bits = fields.bit_string_element(_PUBLIC_KEY_TAG)
    check_public_key_bits(data, bits.content_offset + 1, bits.end, algorithm)
    return data[bits.content_offset + 1 : bits.end]


def _check_private_key(data: bytes, octets: Element, algorithm: AlgorithmIdentifierDer) -> None:
    start, end = octets.content_offset, octets.end
    if algorithm.algorithm.name == "RSA":
        fits = rsa_private_key_end(data, start, end) == end
    elif algorithm.algorithm is EC:
        fits = _fits_ec_private_key(data, start, end, algorithm)
    elif algorithm.algorithm is DSA:
        fits = is_lone_positive_integer(data, start, end)
    else:
        raw = DerReader(data, start, end)
        fits = len(raw.octet_string()) == algorithm.algorithm.raw_key_bytes and raw.at_end()
    if not fits:
        raise DerError(f"privateKey does not fit its algorithm at offset {octets.offset}")


def _fits_ec_private_key(
    data: bytes, start: int, end: int, algorithm: AlgorithmIdentifierDer
) -> bool:
    """RFC 5915 inside PKCS#8: parameters, when repeated, name the same curve."""
    inner = read_ec_private_key(data, start, end)
    curve = algorithm.curve
    return (
        curve is not None
        and inner.end == end
        and (inner.curve is None or inner.curve is curve)
        and len(inner.private_key) <= curve.size_bytes
        and (inner.public_point is None or point_matches_size(inner.public_point, curve))
    )


class DerPkcs8Parser(DerParser):
    name = "der-pkcs8"
    kind = PayloadKind.PKCS8_PRIVATE
    # A 16384-bit RSA key takes about 9.3 KiB; 16 KiB leaves room for attributes.
    max_length = 16 * 1024

    def structure_end(self, data: bytes, offset: int, limit: int) -> int:
        return read_private_key_info(data, offset, limit).end
