"""Provers of raw EC scalars and Ed25519/X25519/Ed448/X448 private bytes found for a known key.

A number that is the known key's private half proves to a private Key carrying
the known key's fingerprint; a wrong number, a wrong length, a known key of
another algorithm or a missing known key raise KeyProofError, whose message
holds no key bytes.  Keys come from `cryptography` and from the openssl CLI.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.errors import KeyProofError
from scanner.keys.base import Key, KeyKind, Payload, PayloadKind
from scanner.keys.ec import CURVES
from scanner.keys.fingerprint import fingerprint_public_key
from scanner.keys.prove import prove
from tests.keys.test_prove import assert_message_holds_no_key_bytes

EC_CURVES = {curve.name: curve for curve in CURVES}
ECX_KEYS = {
    "Ed25519": (ed25519.Ed25519PrivateKey.generate, 255),
    "X25519": (x25519.X25519PrivateKey.generate, 255),
    "Ed448": (ed448.Ed448PrivateKey.generate, 448),
    "X448": (x448.X448PrivateKey.generate, 448),
}


def spki(public_key: PublicKeyTypes) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def scalar_payload(key: ec.EllipticCurvePrivateKey, scalar: int | None = None) -> Payload:
    size = EC_CURVES[_curve_name(key)].size_bytes
    value = key.private_numbers().private_value if scalar is None else scalar
    return Payload(
        PayloadKind.EC_SCALAR, value.to_bytes(size, "big"), public_spki=spki(key.public_key())
    )


def _curve_name(key: ec.EllipticCurvePrivateKey) -> str:
    return next(curve.name for curve in CURVES if curve.curve.name == key.curve.name)


def raw_private(key: PrivateKeyTypes) -> bytes:
    assert isinstance(
        key,
        ed25519.Ed25519PrivateKey
        | x25519.X25519PrivateKey
        | ed448.Ed448PrivateKey
        | x448.X448PrivateKey,
    )
    return key.private_bytes_raw()


def seed_payload(key: PrivateKeyTypes, data: bytes | None = None) -> Payload:
    private = raw_private(key) if data is None else data
    return Payload(PayloadKind.ECX_SEED, private, public_spki=spki(key.public_key()))


def rejected(payload: Payload, reason: str) -> None:
    with pytest.raises(KeyProofError, match=reason) as caught:
        prove(payload)
    assert_message_holds_no_key_bytes(str(caught.value))


@pytest.mark.parametrize("curve_name", list(EC_CURVES))
def test_ec_scalar_of_known_key_proves_to_the_known_key(curve_name: str) -> None:
    curve = EC_CURVES[curve_name]
    key = ec.generate_private_key(curve.curve)
    fingerprint = fingerprint_public_key(key.public_key())
    expected = Key(KeyKind.PRIVATE, "EC", curve.curve.key_size, curve.name, fingerprint)
    assert prove(scalar_payload(key)) == expected


def openssl_key(tmp_path: Path, algorithm_options: list[str]) -> PrivateKeyTypes:
    path = tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "genpkey", *algorithm_options, "-out", str(path)],
        check=True,
        capture_output=True,
    )
    return serialization.load_pem_private_key(path.read_bytes(), None)


def test_scalar_of_an_openssl_key_proves(tmp_path: Path) -> None:
    key = openssl_key(tmp_path, ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"])
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert prove(scalar_payload(key)).fingerprint == fingerprint_public_key(key.public_key())


def test_wrong_scalar_is_rejected() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    rejected(scalar_payload(key, key.private_numbers().private_value ^ 1), "not the known")


@pytest.mark.parametrize("curve_name", list(EC_CURVES))
def test_scalar_outside_one_to_order_is_rejected(curve_name: str) -> None:
    curve = EC_CURVES[curve_name]
    key = ec.generate_private_key(curve.curve)
    rejected(scalar_payload(key, 0), "outside")
    if curve.order < 1 << (8 * curve.size_bytes):
        rejected(scalar_payload(key, curve.order), "outside")


def test_scalar_of_wrong_length_is_rejected() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    payload = scalar_payload(key)
    rejected(Payload(payload.kind, b"\x00" + payload.data, public_spki=payload.public_spki), "32")


def test_scalar_of_another_curve_is_rejected() -> None:
    p256 = ec.generate_private_key(ec.SECP256R1())
    k1 = ec.generate_private_key(ec.SECP256K1())
    stolen = scalar_payload(p256)
    rejected(Payload(stolen.kind, stolen.data, public_spki=spki(k1.public_key())), "not the")


def test_scalar_for_a_known_key_that_is_not_ec_is_rejected() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    rsa_public = rsa.generate_private_key(65537, 2048).public_key()
    payload = Payload(PayloadKind.EC_SCALAR, scalar_payload(key).data, public_spki=spki(rsa_public))
    rejected(payload, "not an EC key")


def test_missing_or_broken_known_key_is_rejected() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    data = scalar_payload(key).data
    rejected(Payload(PayloadKind.EC_SCALAR, data), "without the known public key")
    rejected(Payload(PayloadKind.EC_SCALAR, data, public_spki=b"\x30\x03\x02\x01\x01"), "load")


@pytest.mark.parametrize("algorithm", list(ECX_KEYS))
def test_private_bytes_of_known_key_prove_to_the_known_key(algorithm: str) -> None:
    generate, bits = ECX_KEYS[algorithm]
    key = generate()
    expected = Key(KeyKind.PRIVATE, algorithm, bits, None, fingerprint_public_key(key.public_key()))
    assert prove(seed_payload(key)) == expected


@pytest.mark.parametrize(
    ("algorithm", "options"),
    [("Ed25519", ["-algorithm", "ED25519"]), ("X448", ["-algorithm", "X448"])],
)
def test_private_bytes_of_openssl_keys_prove(
    tmp_path: Path, algorithm: str, options: list[str]
) -> None:
    key = openssl_key(tmp_path, options)
    assert prove(seed_payload(key)).algorithm == algorithm


@pytest.mark.parametrize("algorithm", list(ECX_KEYS))
def test_other_private_bytes_are_rejected(algorithm: str) -> None:
    generate = ECX_KEYS[algorithm][0]
    key, other = generate(), generate()
    rejected(seed_payload(key, raw_private(other)), "different public key")


@pytest.mark.parametrize("algorithm", list(ECX_KEYS))
def test_private_bytes_of_wrong_length_are_rejected(algorithm: str) -> None:
    key = ECX_KEYS[algorithm][0]()
    rejected(seed_payload(key, raw_private(key) + b"\x01"), "bytes long")
    rejected(seed_payload(key, raw_private(key)[:-1]), "bytes long")


def test_ed25519_seed_does_not_prove_an_x25519_key_made_from_other_bytes() -> None:
    """The same 32 bytes are a key of both algorithms; each derives its own public key."""
    seed = ed25519.Ed25519PrivateKey.generate()
    same_bytes = x25519.X25519PrivateKey.from_private_bytes(raw_private(seed))
    assert prove(seed_payload(same_bytes)).algorithm == "X25519"
    other = x25519.X25519PrivateKey.generate()
    rejected(seed_payload(other, raw_private(seed)), "different public key")


def test_private_bytes_for_a_known_ec_key_are_rejected() -> None:
    seed = ed25519.Ed25519PrivateKey.generate()
    ec_public = ec.generate_private_key(ec.SECP256R1()).public_key()
    payload = Payload(PayloadKind.ECX_SEED, raw_private(seed), public_spki=spki(ec_public))
    rejected(payload, "known EC key")


KNOWN_KEYS = [
    spki(ec.generate_private_key(ec.SECP256R1()).public_key()),
    spki(ed25519.Ed25519PrivateKey.generate().public_key()),
    spki(x448.X448PrivateKey.generate().public_key()),
]


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from([PayloadKind.EC_SCALAR, PayloadKind.ECX_SEED]),
    data=st.binary(max_size=80),
    known=st.sampled_from(KNOWN_KEYS),
)
def test_random_numbers_are_rejected_and_never_crash(
    kind: PayloadKind, data: bytes, known: bytes
) -> None:
    with pytest.raises(KeyProofError) as caught:
        prove(Payload(kind, data, public_spki=known))
    assert_message_holds_no_key_bytes(str(caught.value))
