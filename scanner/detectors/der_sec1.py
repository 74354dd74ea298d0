"""ECPrivateKey, RFC 5915 section 3 (the "BEGIN EC PRIVATE KEY" body).

    ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING,
        parameters [0] EXPLICIT ECParameters OPTIONAL,
        publicKey [1] EXPLICIT BIT STRING OPTIONAL }

Only named curves dumpguard can prove keys on are accepted as parameters
(explicit curve parameters are not: `cryptography` refuses them).  Without
parameters (as inside PKCS#8), the prover finds the curve from the stated
public point.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scanner.detectors.asn1 import (
    TAG_SEQUENCE,
    DerError,
    DerReader,
    context_tag,
    read_element,
)
from scanner.detectors.der_base import DerParser
from scanner.keys.base import PayloadKind
from scanner.keys.ec import CURVE_BY_OID, CURVES, Curve, point_matches_size

_PARAMETERS_TAG = context_tag(0, constructed=True)
_PUBLIC_KEY_TAG = context_tag(1, constructed=True)


@dataclass(frozen=True)
class EcPrivateKeyDer:
    """The fields of one ECPrivateKey; `end` is the offset after it."""

    private_key: bytes = field(repr=False)
    curve: Curve | None
    public_point: bytes | None
    end: int


def read_ec_private_key(data: bytes, offset: int, limit: int) -> EcPrivateKeyDer:
    outer = read_element(data, offset, limit)
    fields = DerReader.over(data, outer)
    if outer.tag != TAG_SEQUENCE or fields.integer() != 1:
        raise DerError(f"not an ECPrivateKey at offset {offset}")
    private_key = fields.octet_string()
    curve = _read_parameters(fields)
    public_point = _read_public_key(fields)
    fields.finish()
    _check_sizes(private_key, curve, public_point, offset)
    return EcPrivateKeyDer(private_key, curve, public_point, outer.end)


def _read_parameters(fields: DerReader) -> Curve | None:
    explicit = fields.optional(_PARAMETERS_TAG)
    if explicit is None:
        return None
    parameters = fields.enter(explicit)
    curve = CURVE_BY_OID.get(parameters.oid())
    parameters.finish()
    if curve is None:
        raise DerError(f"unsupported EC parameters at offset {explicit.offset}")
    return curve


def _read_public_key(fields: DerReader) -> bytes | None:
    explicit = fields.optional(_PUBLIC_KEY_TAG)
    if explicit is None:
        return None
    public_key = fields.enter(explicit)
    point = public_key.bit_string()
    public_key.finish()
    return point


def _check_sizes(
    private_key: bytes, curve: Curve | None, public_point: bytes | None, offset: int
) -> None:
    """The scalar fits the curve (legacy encoders strip leading zeros: shorter is fine)."""
    possible_curves = (curve,) if curve is not None else CURVES
    fits = [
        candidate
        for candidate in possible_curves
        if 0 < len(private_key) <= candidate.size_bytes
        and (public_point is None or point_matches_size(public_point, candidate))
    ]
    if not fits:
        raise DerError(f"EC key sizes do not fit a curve at offset {offset}")


class DerSec1Parser(DerParser):
    name = "der-sec1"
    kind = PayloadKind.SEC1_PRIVATE
    # P-521 with parameters and public key: 223 bytes.
    max_length = 512

    def structure_end(self, data: bytes, offset: int, limit: int) -> int:
        return read_ec_private_key(data, offset, limit).end
