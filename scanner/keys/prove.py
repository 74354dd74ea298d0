"""prove(payload) -> Key: is a cut-out structure a real, self-consistent key?

Every payload is first re-read with the DER (or OpenSSH) reader the detectors
use, which requires the payload to be exactly one whole structure; then
`cryptography` loads it, and the arithmetic is checked here (RSA CRT values,
EC scalar and stated points, DSA group and key pair: see rsa.py, ec.py,
dsa.py).  RSA keys are loaded with unsafe_skip_rsa_key_validation=True: the
check in rsa.py replaces OpenSSL's slow one.

`cryptography` (OpenSSL 3) loads neither RFC 5958 v2 OneAsymmetricKey nor an
ECPrivateKey without parameters: a v2 key is loaded as the v1 key it contains
and its publicKey compared with the derived one; a parameterless ECPrivateKey
is accepted on the one curve where scalar*G is the stated public point.

Everything that is not a provable key raises KeyProofError; messages never hold
key bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import assert_never

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from scanner.detectors.asn1 import (
    TAG_OCTET_STRING,
    TAG_SEQUENCE,
    DerError,
    DerReader,
    encode_integer,
    encode_tlv,
)
from scanner.detectors.der_dsa import dsa_private_key_end
from scanner.detectors.der_pkcs1 import rsa_private_key_end
from scanner.detectors.der_pkcs1_public import rsa_public_key_end
from scanner.detectors.der_pkcs8 import PrivateKeyInfoDer, read_private_key_info
from scanner.detectors.der_sec1 import EcPrivateKeyDer, read_ec_private_key
from scanner.detectors.der_spki import EC, subject_public_key_info_end
from scanner.detectors.der_x509 import certificate_end
from scanner.errors import KeyProofError
from scanner.keys.base import Key, KeyKind, Payload, PayloadKind
from scanner.keys.checks import check_private_key
from scanner.keys.describe import key_for
from scanner.keys.ec import CURVES, check_ec_private_key, point_matches_size
from scanner.keys.encrypted import prove_encrypted_pkcs8, prove_legacy_encrypted_pem
from scanner.keys.encrypted_spki import prove_encrypted_spki
from scanner.keys.keystore import prove_keystore
from scanner.keys.openssh import prove_openssh
from scanner.keys.recovered import prove_recovered

# Far above any key or certificate (the DER detectors stop at 64 KiB); keeps a
# hostile PEM body from making the loaders and the arithmetic work on megabytes.
MAX_PAYLOAD_BYTES = 1024 * 1024

StructureEnd = Callable[[bytes, int, int], int]


def prove(payload: Payload) -> Key:
    if len(payload.data) > MAX_PAYLOAD_BYTES:
        raise KeyProofError(f"{payload.kind.value} is larger than any key structure")
    try:
        return _prove_kind(payload)
    except DerError as error:
        raise KeyProofError(f"malformed {payload.kind.value}: {error}") from None


def _prove_kind(payload: Payload) -> Key:  # noqa: PLR0911, PLR0912 - one case per PayloadKind
    data = payload.data
    match payload.kind:
        case PayloadKind.PKCS1_PRIVATE:
            return _prove_traditional(data, rsa_private_key_end, rsa.RSAPrivateKey)
        case PayloadKind.DSA_PRIVATE:
            return _prove_traditional(data, dsa_private_key_end, dsa.DSAPrivateKey)
        case PayloadKind.SEC1_PRIVATE:
            return _prove_sec1(data)
        case PayloadKind.PKCS8_PRIVATE:
            return _prove_pkcs8(data)
        case PayloadKind.ENCRYPTED_PKCS8:
            return prove_encrypted_pkcs8(data, payload.algorithm_hint)
        case PayloadKind.LEGACY_ENCRYPTED_PEM:
            return prove_legacy_encrypted_pem(data, payload.algorithm_hint)
        case PayloadKind.OPENSSH_PRIVATE:
            return prove_openssh(data)
        case PayloadKind.ENCRYPTED_SPKI:
            return prove_encrypted_spki(data)
        case PayloadKind.SPKI:
            return _prove_public(data, subject_public_key_info_end)
        case PayloadKind.PKCS1_PUBLIC:
            return _prove_public(data, rsa_public_key_end)
        case PayloadKind.X509_CERTIFICATE:
            return _prove_certificate(data)
        case PayloadKind.RSA_FACTOR | PayloadKind.EC_SCALAR | PayloadKind.ECX_SEED:
            return prove_recovered(payload)
        case PayloadKind.PKCS12 | PayloadKind.JKS | PayloadKind.JCEKS:
            return prove_keystore(payload)
        case _:
            assert_never(payload.kind)


def _require_whole(structure_end: int, data: bytes) -> None:
    if structure_end != len(data):
        raise KeyProofError("bytes follow the structure")


def _prove_traditional(data: bytes, structure_end: StructureEnd, key_type: type) -> Key:
    """RSAPrivateKey or DSAPrivateKey: one structure that `cryptography` loads whole."""
    _require_whole(structure_end(data, 0, len(data)), data)
    private_key = _load_der_private_key(data)
    if not isinstance(private_key, key_type):
        raise KeyProofError("structure loads as a different key type")
    check_private_key(private_key, stated_points=())
    return key_for(KeyKind.PRIVATE, private_key.public_key())


def _load_der_private_key(der: bytes) -> PrivateKeyTypes:
    try:
        return serialization.load_der_private_key(
            der, password=None, unsafe_skip_rsa_key_validation=True
        )
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise KeyProofError("private key structure does not load") from None


def _prove_sec1(data: bytes) -> Key:
    info = read_ec_private_key(data, 0, len(data))
    _require_whole(info.end, data)
    if info.curve is None:
        return key_for(KeyKind.PRIVATE, _ec_key_without_parameters(info).public_key())
    private_key = _load_der_private_key(data)
    if not isinstance(private_key, ec.EllipticCurvePrivateKey):
        raise KeyProofError("ECPrivateKey loads as a different key type")
    stated_points = () if info.public_point is None else (info.public_point,)
    if check_ec_private_key(private_key, stated_points) is not info.curve:
        raise KeyProofError("ECPrivateKey loads on a different curve")
    return key_for(KeyKind.PRIVATE, private_key.public_key())


def _ec_key_without_parameters(info: EcPrivateKeyDer) -> ec.EllipticCurvePrivateKey:
    point = info.public_point
    if point is None:
        raise KeyProofError("ECPrivateKey names no curve and states no public point")
    scalar = int.from_bytes(info.private_key, "big")
    for curve in CURVES:
        if not (1 <= scalar < curve.order and point_matches_size(point, curve)):
            continue
        private_key = ec.derive_private_key(scalar, curve.curve)
        try:
            check_ec_private_key(private_key, (point,))
        except KeyProofError:
            continue
        return private_key
    raise KeyProofError("EC scalar gives the stated public point on no supported curve")


def _prove_pkcs8(data: bytes) -> Key:
    info = read_private_key_info(data, 0, len(data))
    _require_whole(info.end, data)
    version_1 = encode_tlv(
        TAG_SEQUENCE,
        encode_integer(0) + info.algorithm.der + encode_tlv(TAG_OCTET_STRING, info.private_key),
    )
    private_key = _load_der_private_key(version_1)
    if info.algorithm.algorithm is EC:
        check_private_key(private_key, _stated_ec_points(info))
    else:
        check_private_key(private_key, stated_points=())
        _check_stated_public_key(info, private_key.public_key())
    return key_for(KeyKind.PRIVATE, private_key.public_key())


def _stated_ec_points(info: PrivateKeyInfoDer) -> tuple[bytes, ...]:
    """The inner ECPrivateKey's [1] publicKey and the v2 publicKey, where present."""
    inner = read_ec_private_key(info.private_key, 0, len(info.private_key))
    return tuple(point for point in (inner.public_point, info.public_key) if point is not None)


def _check_stated_public_key(info: PrivateKeyInfoDer, public_key: PublicKeyTypes) -> None:
    if info.public_key is not None and info.public_key != _subject_public_key(public_key):
        raise KeyProofError("stated public key does not belong to the private key")


def _subject_public_key(public_key: PublicKeyTypes) -> bytes:
    """The subjectPublicKey bits, as RFC 5958 publicKey holds them."""
    spki_der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    spki = DerReader(spki_der, 0, len(spki_der)).sequence()
    spki.sequence()
    return spki.bit_string()


def _prove_public(data: bytes, structure_end: StructureEnd) -> Key:
    _require_whole(structure_end(data, 0, len(data)), data)
    try:
        public_key = serialization.load_der_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise KeyProofError("public key structure does not load") from None
    return key_for(KeyKind.PUBLIC, public_key)


def _prove_certificate(data: bytes) -> Key:
    _require_whole(certificate_end(data, 0, len(data)), data)
    try:
        public_key = x509.load_der_x509_certificate(data).public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise KeyProofError("certificate or its public key does not load") from None
    return key_for(KeyKind.CERTIFICATE, public_key)
