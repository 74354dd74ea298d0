"""One entry point for "is this loaded private key consistent?", per algorithm."""

from __future__ import annotations

from collections.abc import Iterable

from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from scanner.errors import KeyProofError
from scanner.keys.dsa import check_dsa_private_key
from scanner.keys.ec import check_ec_private_key
from scanner.keys.rsa import check_rsa_private_key

# Every 32/57/56-byte string is a valid RFC 7748/8032 private key: nothing to check
# but the structure around it, which the DER parser has done.
_RAW_PRIVATE_KEY_TYPES = (
    ed25519.Ed25519PrivateKey,
    x25519.X25519PrivateKey,
    ed448.Ed448PrivateKey,
    x448.X448PrivateKey,
)


def check_private_key(private_key: PrivateKeyTypes, stated_points: Iterable[bytes]) -> None:
    """stated_points: EC public points the structure states beside the scalar."""
    if isinstance(private_key, rsa.RSAPrivateKey):
        check_rsa_private_key(private_key)
    elif isinstance(private_key, ec.EllipticCurvePrivateKey):
        check_ec_private_key(private_key, stated_points)
    elif isinstance(private_key, dsa.DSAPrivateKey):
        check_dsa_private_key(private_key)
    elif not isinstance(private_key, _RAW_PRIVATE_KEY_TYPES):
        raise KeyProofError("unsupported private key algorithm")
