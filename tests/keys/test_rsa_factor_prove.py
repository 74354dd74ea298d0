"""Proving RSA factors against known public keys: real keys, forged pairs, silent errors.

Keys come from OpenSSL's CLI and from `cryptography`; forged public keys are
built from real primes (a three-prime modulus, a square, an exponent that
shares a factor with p - 1), so every refusal is one a user could meet.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from scanner.errors import KeyProofError
from scanner.keys.base import KeyKind, Payload, PayloadKind
from scanner.keys.fingerprint import fingerprint_public_key
from scanner.keys.prove import prove
from scanner.keys.rsa_factor import prove_rsa_factor


def spki(public_key: PublicKeyTypes) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def payload(number: int, public_key: PublicKeyTypes | None, length: int | None = None) -> Payload:
    size = length or max(1, (number.bit_length() + 7) // 8)
    known = None if public_key is None else spki(public_key)
    return Payload(PayloadKind.RSA_FACTOR, number.to_bytes(size, "big"), public_spki=known)


def openssl_key(bits: int) -> rsa.RSAPrivateKey:
    pem = subprocess.run(
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits}"],
        check=True,
        capture_output=True,
        timeout=120,
    ).stdout
    key = serialization.load_pem_private_key(pem, None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


@pytest.fixture(scope="module")
def keys() -> list[rsa.RSAPrivateKey]:
    return [
        openssl_key(2048),
        rsa.generate_private_key(65537, 1024),
        rsa.generate_private_key(3, 2048),
    ]


@pytest.fixture(scope="module")
def other() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


def test_each_factor_of_a_real_key_proves_it(keys: list[rsa.RSAPrivateKey]) -> None:
    for key in keys:
        numbers = key.private_numbers()
        for factor in (numbers.p, numbers.q):
            proven = prove_rsa_factor(payload(factor, key.public_key()))
            assert proven.kind is KeyKind.PRIVATE
            assert (proven.algorithm, proven.bits, proven.curve) == ("RSA", key.key_size, None)
            assert proven.fingerprint == fingerprint_public_key(key.public_key())


def test_the_prover_is_reached_through_prove(keys: list[rsa.RSAPrivateKey]) -> None:
    key = keys[0]
    proven = prove(payload(key.private_numbers().q, key.public_key()))
    assert proven.fingerprint == fingerprint_public_key(key.public_key())


def test_factor_with_leading_zero_bytes_still_proves(keys: list[rsa.RSAPrivateKey]) -> None:
    key = keys[1]
    proven = prove_rsa_factor(payload(key.private_numbers().p, key.public_key(), length=80))
    assert proven.bits == 1024


NOT_A_FACTOR = "not a factor"
SIGNATURE_FAILS = "signature fails"
NO_PRIVATE_KEY = "no RSA private key"


def forged_cases(
    keys: list[rsa.RSAPrivateKey], other: rsa.RSAPrivateKey
) -> dict[str, tuple[Payload, str]]:
    """name: (payload, what the refusal must say)."""
    key = keys[0]
    numbers = key.private_numbers()
    p, q, n = numbers.p, numbers.q, numbers.p * numbers.q
    o = other.private_numbers()
    three_primes = rsa.RSAPublicNumbers(65537, p * q * o.p).public_key()
    square = rsa.RSAPublicNumbers(65537, p * p).public_key()
    shared = next(f for f in range(3, 1 << 16, 2) if (p - 1) % f == 0 and (q - 1) % f)
    bad_exponent = rsa.RSAPublicNumbers(shared, n).public_key()
    known = key.public_key()
    ec_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    garbage = Payload(PayloadKind.RSA_FACTOR, p.to_bytes(128, "big"), public_spki=b"\x30\x00")
    return {
        "factor of another key": (payload(o.p, known), NOT_A_FACTOR),
        "p + 2": (payload(p + 2, known), NOT_A_FACTOR),
        "one": (payload(1, known), NOT_A_FACTOR),
        "zero": (payload(0, known), NOT_A_FACTOR),
        "the modulus itself": (payload(n, known), NOT_A_FACTOR),
        "a multiple of the modulus": (payload(3 * n, known), NOT_A_FACTOR),
        # the CRT key of a wrong factorisation signs, but not with the known key's d
        "prime of a three-prime modulus": (payload(p, three_primes), SIGNATURE_FAILS),
        "two primes of a three-prime modulus": (payload(p * q, three_primes), SIGNATURE_FAILS),
        "root of a square modulus": (payload(p, square), NO_PRIVATE_KEY),
        "exponent sharing a factor with p - 1": (payload(p, bad_exponent), NO_PRIVATE_KEY),
        "known key that is EC": (payload(p, ec_key), "not an RSA key"),
        "no known key": (payload(p, None), "without the known public key"),
        "garbage instead of a known key": (garbage, "does not load"),
    }


def secret_texts(keys: list[rsa.RSAPrivateKey], other: rsa.RSAPrivateKey) -> list[str]:
    texts = []
    for key in (*keys, other):
        numbers = key.private_numbers()
        for value in (numbers.p, numbers.q, numbers.d, numbers.public_numbers.n):
            texts += [str(value)[:20], f"{value:x}"[:20], f"{value:X}"[:20]]
    return texts


def test_forged_pairs_are_refused_without_a_number_in_the_message(
    keys: list[rsa.RSAPrivateKey], other: rsa.RSAPrivateKey
) -> None:
    secrets = secret_texts(keys, other)
    for name, (forged, reason) in forged_cases(keys, other).items():
        with pytest.raises(KeyProofError, match=reason) as raised:
            prove(forged)
        message = str(raised.value)
        assert not re.search(r"[0-9a-fA-F]{12,}", message), name
        assert not any(secret in message for secret in secrets), name
