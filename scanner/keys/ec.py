"""Elliptic curves dumpguard proves keys on, and the EC private key check.

A private scalar proves a key when it lies in [1, order) and, where the
structure also states the public point (RFC 5915 [1] publicKey, RFC 5958 v2
publicKey, the OpenSSH public blob), scalar*G equals that point.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from scanner.errors import KeyProofError


@dataclass(frozen=True)
class Curve:
    """name: the report name; oid: the RFC 5480 namedCurve; order: of the base point."""

    name: str
    oid: str
    order: int
    curve: ec.EllipticCurve

    @property
    def size_bytes(self) -> int:
        """Octets of a private scalar and of one point coordinate (SEC 1 2.3.5)."""
        return (self.curve.key_size + 7) // 8


# Orders: SEC 2 v2 sections 2.4.1 (secp256k1), 2.4.2, 2.5.1, 2.6.1 (= FIPS 186-4 D.1.2).
CURVES = (
    Curve(
        "P-256",
        "1.2.840.10045.3.1.7",
        0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
        ec.SECP256R1(),
    ),
    Curve(
        "P-384",
        "1.3.132.0.34",
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973,
        ec.SECP384R1(),
    ),
    Curve(
        "P-521",
        "1.3.132.0.35",
        int(
            "1FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA5"
            "1868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
            16,
        ),
        ec.SECP521R1(),
    ),
    Curve(
        "secp256k1",
        "1.3.132.0.10",
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
        ec.SECP256K1(),
    ),
)
CURVE_BY_OID = {curve.oid: curve for curve in CURVES}
_CURVE_BY_CRYPTOGRAPHY_NAME = {curve.curve.name: curve for curve in CURVES}


def curve_of(key_curve: ec.EllipticCurve) -> Curve:
    curve = _CURVE_BY_CRYPTOGRAPHY_NAME.get(key_curve.name)
    if curve is None:
        raise KeyProofError(f"unsupported elliptic curve {key_curve.name}")
    return curve


def point_matches_size(point: bytes, curve: Curve) -> bool:
    """SEC 1 2.3.3: 04||X||Y uncompressed, 02/03||X compressed."""
    if point[:1] == b"\x04":
        return len(point) == 1 + 2 * curve.size_bytes
    return point[:1] in (b"\x02", b"\x03") and len(point) == 1 + curve.size_bytes


def check_ec_private_key(
    private_key: ec.EllipticCurvePrivateKey, stated_points: Iterable[bytes]
) -> Curve:
    """The key's curve, once its scalar and every stated public point check out."""
    curve = curve_of(private_key.curve)
    scalar = private_key.private_numbers().private_value
    if not 1 <= scalar < curve.order:
        raise KeyProofError(f"EC private scalar is outside [1, order) of {curve.name}")
    derived = public_key_for_scalar(scalar, curve).public_numbers()
    for point in stated_points:
        if stated_public_key(point, curve).public_numbers() != derived:
            raise KeyProofError("stated EC public point is not the private scalar times G")
    return curve


def public_key_for_scalar(scalar: int, curve: Curve) -> ec.EllipticCurvePublicKey:
    """scalar*G, computed afresh rather than trusting what the loader kept."""
    return ec.derive_private_key(scalar, curve.curve).public_key()


def stated_public_key(point: bytes, curve: Curve) -> ec.EllipticCurvePublicKey:
    """Decode a stated point (compressed or not); it must lie on the curve."""
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(curve.curve, point)
    except ValueError:
        raise KeyProofError(f"stated EC public point is not a point of {curve.name}") from None
