"""The private key a proven payload holds, for the one caller that needs its numbers.

Only `dumpguard scrub` uses this: to wipe every copy of a key's components it
must know their values.  The key object never leaves the scrub stage, and
nothing derived from it is printed (see scanner.scrub.material).  Kinds that
hold no private key in the clear (encrypted keys, public keys, certificates,
keystores: their inner keys are payloads of their own) give None.
"""

from __future__ import annotations

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from scanner.detectors.asn1 import TAG_OCTET_STRING, TAG_SEQUENCE, encode_integer, encode_tlv
from scanner.detectors.der_pkcs8 import read_private_key_info
from scanner.detectors.der_sec1 import read_ec_private_key
from scanner.errors import KeyProofError
from scanner.keys.base import Payload, PayloadKind
from scanner.keys.ec import CURVES
from scanner.keys.ec_scalar import load_known_public_key
from scanner.keys.ecx_seed import load_raw_private_key
from scanner.keys.openssh import load_unencrypted_openssh
from scanner.keys.rsa_factor import rebuild_rsa_key


def private_key_of(payload: Payload) -> PrivateKeyTypes | None:
    """The key in `payload`; None when it holds none in the clear or does not load."""
    try:
        return _private_key(payload)
    except (KeyProofError, ValueError, TypeError, UnsupportedAlgorithm):
        return None


def _private_key(payload: Payload) -> PrivateKeyTypes | None:  # noqa: PLR0911 - one per kind
    data = payload.data
    match payload.kind:
        case PayloadKind.PKCS1_PRIVATE | PayloadKind.DSA_PRIVATE:
            return _load_der(data)
        case PayloadKind.SEC1_PRIVATE:
            return _sec1(data)
        case PayloadKind.PKCS8_PRIVATE:
            info = read_private_key_info(data, 0, len(data))
            inner = encode_tlv(TAG_OCTET_STRING, info.private_key)
            return _load_der(
                encode_tlv(TAG_SEQUENCE, encode_integer(0) + info.algorithm.der + inner)
            )
        case PayloadKind.OPENSSH_PRIVATE:
            return load_unencrypted_openssh(data)
        case PayloadKind.RSA_FACTOR:
            return rebuild_rsa_key(payload)
        case PayloadKind.EC_SCALAR:
            known = load_known_public_key(payload)
            if not isinstance(known, ec.EllipticCurvePublicKey):
                return None
            return ec.derive_private_key(int.from_bytes(data, "big"), known.curve)
        case PayloadKind.ECX_SEED:
            return load_raw_private_key(load_known_public_key(payload), data)
        case _:
            return None


def _load_der(der: bytes) -> PrivateKeyTypes:
    return serialization.load_der_private_key(
        der, password=None, unsafe_skip_rsa_key_validation=True
    )


def _sec1(data: bytes) -> PrivateKeyTypes | None:
    info = read_ec_private_key(data, 0, len(data))
    if info.curve is not None:
        return _load_der(data)
    scalar = int.from_bytes(info.private_key, "big")
    for curve in CURVES:  # no parameters: the curve whose size fits and whose point is stated
        if 1 <= scalar < curve.order and len(info.private_key) == curve.size_bytes:
            key = ec.derive_private_key(scalar, curve.curve)
            point = key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
            if info.public_point in (None, point):
                return key
    return None
