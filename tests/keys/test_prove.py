"""prove() on real keys from openssl, ssh-keygen and cryptography, and on broken ones.

A real key proves to its kind, algorithm, size, curve and the fingerprint of its
own public half; every inconsistent key (wrong modulus, exponent, CRT value,
EC point, DSA y, stated public key) raises KeyProofError, and so does any
garbage.  Error messages are checked to hold no key bytes.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.detectors.asn1 import DerReader
from scanner.errors import KeyProofError
from scanner.keys.base import Key, KeyKind, Payload, PayloadKind
from scanner.keys.prove import MAX_PAYLOAD_BYTES, prove
from tests.keys.der_samples import (
    PASSPHRASE,
    DerSample,
    der_integer,
    der_sample,
    der_samples,
    openssl,
    sha256_fingerprint,
    tlv,
)

SAMPLES = der_samples()
P256_OID = bytes.fromhex("06082a8648ce3d030107")


def digest(data: bytes) -> str:
    """What assertions compare instead of key bytes."""
    return hashlib.sha256(data).hexdigest()


def expected_key(sample: DerSample) -> Key:
    return Key(sample.key_kind, sample.algorithm, sample.bits, sample.curve, sample.fingerprint)


def assert_rejected(payload: Payload, reason: str | None = None) -> KeyProofError:
    with pytest.raises(KeyProofError, match=reason) as caught:
        prove(payload)
    assert_message_holds_no_key_bytes(str(caught.value))
    return caught.value


def assert_message_holds_no_key_bytes(message: str) -> None:
    """No hex, base64 or decimal run long enough to be a piece of a key."""
    long_runs = [r"[0-9a-fA-F]{16}", r"[A-Za-z0-9+/]{24}", r"\d{12}"]
    # Booleans only: a failing assertion must not print the run it found.
    holds_a_long_run = any(re.search(run, message) is not None for run in long_runs)
    assert not holds_a_long_run
    assert len(message) < 200


@pytest.mark.parametrize("sample", SAMPLES, ids=[sample.name for sample in SAMPLES])
def test_real_structures_prove_to_their_own_key(sample: DerSample) -> None:
    assert prove(Payload(sample.kind, sample.der)) == expected_key(sample)


def test_every_payload_kind_is_handled() -> None:
    for kind in PayloadKind:
        assert_rejected(Payload(kind, b""))


def test_trailing_bytes_after_a_structure_are_rejected() -> None:
    for name in ("rsa2048-traditional", "p256-pkcs8", "rsa2048-certificate", "ed25519-spki"):
        sample = der_sample(name)
        assert_rejected(Payload(sample.kind, sample.der + b"\x00"), "follow")


def test_oversized_payload_is_rejected_before_parsing() -> None:
    assert_rejected(Payload(PayloadKind.PKCS8_PRIVATE, bytes(MAX_PAYLOAD_BYTES + 1)), "larger")


# --- RSA ----------------------------------------------------------------------


@dataclass(frozen=True)
class RsaFields:
    n: int = field(repr=False)
    e: int
    d: int = field(repr=False)
    p: int = field(repr=False)
    q: int = field(repr=False)
    dp: int = field(repr=False)
    dq: int = field(repr=False)
    qinv: int = field(repr=False)

    def der(self) -> bytes:
        values = (0, self.n, self.e, self.d, self.p, self.q, self.dp, self.dq, self.qinv)
        return tlv(0x30, b"".join(der_integer(value) for value in values))


def rsa_fields(sample_name: str) -> RsaFields:
    key = serialization.load_der_private_key(der_sample(sample_name).der, None)
    assert isinstance(key, rsa.RSAPrivateKey)
    numbers = key.private_numbers()
    public = numbers.public_numbers
    return RsaFields(
        public.n,
        public.e,
        numbers.d,
        numbers.p,
        numbers.q,
        numbers.dmp1,
        numbers.dmq1,
        numbers.iqmp,
    )


def test_rebuilt_rsa_key_proves() -> None:
    """The builder below writes what openssl writes: corruptions are the only difference."""
    fields = rsa_fields("rsa2048-traditional")
    assert digest(fields.der()) == digest(der_sample("rsa2048-traditional").der)


def _rsa_corruptions(fields: RsaFields) -> dict[str, tuple[RsaFields, str]]:
    replace = functools.partial(_replace, fields)
    return {
        "modulus": (replace(n=fields.n + 2), r"p\*q != n"),
        "prime": (replace(p=fields.p + 2), r"p\*q != n"),
        "private exponent": (replace(d=fields.d + 2), r"e\*d != 1"),
        "public exponent": (replace(e=3), r"e\*d != 1"),
        "dP": (replace(dp=fields.dp ^ 2), "CRT exponent"),
        "dQ": (replace(dq=fields.dq ^ 2), "CRT exponent"),
        "qInv": (replace(qinv=fields.qinv ^ 2), "CRT coefficient"),
        "swapped primes": (replace(p=fields.q, q=fields.p), "CRT"),
    }


def _replace(fields: RsaFields, **changes: int) -> RsaFields:
    values = {name: getattr(fields, name) for name in RsaFields.__dataclass_fields__}
    return RsaFields(**{**values, **changes})


RSA_CORRUPTIONS = [
    "modulus",
    "prime",
    "private exponent",
    "public exponent",
    "dP",
    "dQ",
    "qInv",
    "swapped primes",
]


@pytest.mark.parametrize("corruption", RSA_CORRUPTIONS)
@pytest.mark.parametrize("sample_name", ["rsa1024-traditional", "rsa2048-traditional"])
def test_inconsistent_rsa_keys_are_rejected(sample_name: str, corruption: str) -> None:
    fields, reason = _rsa_corruptions(rsa_fields(sample_name))[corruption]
    assert_rejected(Payload(PayloadKind.PKCS1_PRIVATE, fields.der()), reason)


def test_inconsistent_rsa_key_inside_pkcs8_is_rejected() -> None:
    fields = _replace(rsa_fields("rsa3072-traditional"), qinv=1)
    algorithm = bytes.fromhex("300d06092a864886f70d0101010500")
    pkcs8 = tlv(0x30, der_integer(0) + algorithm + tlv(0x04, fields.der()))
    assert_rejected(Payload(PayloadKind.PKCS8_PRIVATE, pkcs8), "CRT coefficient")


def test_rsa_proof_skips_cryptographys_slow_check_and_does_the_arithmetic() -> None:
    """A 4096-bit key with one wrong CRT exponent: cryptography's own check would refuse
    to load it; prove() loads it (unsafe_skip_rsa_key_validation) and rejects it with the
    message of its own arithmetic, which is only reached after a successful load."""
    broken = _replace(
        rsa_fields("rsa4096-traditional"), dq=rsa_fields("rsa4096-traditional").dq + 2
    )
    with pytest.raises(ValueError, match="Invalid private key"):
        serialization.load_der_private_key(broken.der(), None)
    assert_rejected(Payload(PayloadKind.PKCS1_PRIVATE, broken.der()), "CRT exponent dP or dQ")


# --- EC -------------------------------------------------------------------------


def sec1(scalar: bytes, curve_oid: bytes | None, point: bytes | None) -> bytes:
    """RFC 5915 ECPrivateKey with optional [0] parameters and [1] publicKey."""
    body = der_integer(1) + tlv(0x04, scalar)
    if curve_oid is not None:
        body += tlv(0xA0, curve_oid)
    if point is not None:
        body += tlv(0xA1, tlv(0x03, b"\x00" + point))
    return tlv(0x30, body)


def ec_parts(sample_name: str) -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    key = serialization.load_der_private_key(der_sample(sample_name).der, None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    size = (key.curve.key_size + 7) // 8
    return key, key.private_numbers().private_value.to_bytes(size, "big")


def point_of(key: ec.EllipticCurvePrivateKey, *, compressed: bool = False) -> bytes:
    point_format = (
        serialization.PublicFormat.CompressedPoint
        if compressed
        else serialization.PublicFormat.UncompressedPoint
    )
    return key.public_key().public_bytes(serialization.Encoding.X962, point_format)


def test_ec_key_with_mismatching_public_point_is_rejected() -> None:
    """With parameters OpenSSL's loader already compares the point; without them
    (and in PKCS#8 v2, below) only prove()'s own scalar*G comparison does."""
    _, scalar = ec_parts("p256-traditional")
    other = ec.generate_private_key(ec.SECP256R1())
    for point in (point_of(other), point_of(other, compressed=True)):
        assert_rejected(Payload(PayloadKind.SEC1_PRIVATE, sec1(scalar, P256_OID, point)))
        assert_rejected(
            Payload(PayloadKind.SEC1_PRIVATE, sec1(scalar, None, point)), "no supported curve"
        )


def test_ec_key_with_compressed_public_point_proves() -> None:
    key, scalar = ec_parts("p256-traditional")
    der = sec1(scalar, P256_OID, point_of(key, compressed=True))
    assert prove(Payload(PayloadKind.SEC1_PRIVATE, der)) == expected_key(
        der_sample("p256-traditional")
    )


def test_ec_point_off_the_named_curve_is_rejected() -> None:
    """A secp256k1 key labelled P-256: the point is not on P-256."""
    key, scalar = ec_parts("k256-traditional")
    assert_rejected(Payload(PayloadKind.SEC1_PRIVATE, sec1(scalar, P256_OID, point_of(key))))


@pytest.mark.parametrize("curve", ["p256", "p384", "p521", "k256"])
def test_ec_key_without_parameters_is_placed_on_its_curve_by_its_point(curve: str) -> None:
    """The ECPrivateKey inside PKCS#8 has no parameters; P-256 and secp256k1 share a size."""
    sample = der_sample(f"{curve}-pkcs8")
    fields = DerReader(sample.der, 0, len(sample.der)).sequence()
    fields.integer()
    fields.sequence()
    inner = fields.octet_string()
    has_parameters = b"\xa0" in inner[:4]
    assert not has_parameters
    assert prove(Payload(PayloadKind.SEC1_PRIVATE, inner)) == expected_key(sample)


def test_ec_key_without_parameters_or_point_is_not_a_key() -> None:
    _, scalar = ec_parts("p256-traditional")
    assert_rejected(Payload(PayloadKind.SEC1_PRIVATE, sec1(scalar, None, None)), "no curve")


def test_ec_scalar_out_of_range_is_rejected() -> None:
    key, _ = ec_parts("p256-traditional")
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    for bad in (0, order, order + 1):
        bad_scalar = bad.to_bytes(33, "big").lstrip(b"\x00") or b"\x00"
        assert_rejected(Payload(PayloadKind.SEC1_PRIVATE, sec1(bad_scalar, P256_OID, None)))
        assert_rejected(Payload(PayloadKind.SEC1_PRIVATE, sec1(bad_scalar, None, point_of(key))))


def test_pkcs8_v2_with_a_foreign_public_key_is_rejected() -> None:
    for name, foreign in (("p256-pkcs8-v2", "p256-spki"), ("ed25519-pkcs8-v2", "ed25519-spki")):
        sample = der_sample(name)
        other = (
            point_of(ec.generate_private_key(ec.SECP256R1()))
            if name.startswith("p256")
            else ed25519.Ed25519PrivateKey.generate()
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )
        stated = der_sample(foreign).der[-len(other) :]
        states_the_key = sample.der.endswith(stated)
        assert states_the_key
        forged = sample.der[: -len(other)] + other
        assert_rejected(Payload(PayloadKind.PKCS8_PRIVATE, forged), "public")


# --- DSA ------------------------------------------------------------------------


def dsa_der(p: int, q: int, g: int, y: int, x: int) -> bytes:
    return tlv(0x30, b"".join(der_integer(value) for value in (0, p, q, g, y, x)))


def test_inconsistent_dsa_keys_are_rejected() -> None:
    key = serialization.load_der_private_key(der_sample("dsa2048-traditional").der, None)
    assert isinstance(key, dsa.DSAPrivateKey)
    numbers = key.private_numbers()
    params = numbers.public_numbers.parameter_numbers
    p, q, g, y, x = params.p, params.q, params.g, numbers.public_numbers.y, numbers.x
    assert digest(dsa_der(p, q, g, y, x)) == digest(der_sample("dsa2048-traditional").der)
    for broken in (
        dsa_der(p, q, g, y * g % p, x),  # y of x+1
        dsa_der(p, q, g, y, x + 1),
        dsa_der(p, q, g, y, x + q),  # x outside (1, q)
        dsa_der(p, q + 2, g, y, x),  # q no longer divides p-1
        dsa_der(p, q, g * g % p if g != 1 else 2, y, x),  # other generator
    ):
        assert_rejected(Payload(PayloadKind.DSA_PRIVATE, broken))


# --- encrypted ------------------------------------------------------------------


def _encrypted_parts(der: bytes) -> tuple[bytes, bytes]:
    """(AlgorithmIdentifier TLV, ciphertext) of an EncryptedPrivateKeyInfo."""
    fields = DerReader(der, 0, len(der)).sequence()
    algorithm = fields.raw(fields.element(0x30))
    return algorithm, fields.octet_string()


def test_encrypted_pkcs8_ciphertext_must_be_whole_blocks() -> None:
    for name in ("rsa2048-encrypted-pbes2-aes256", "ed25519-encrypted-pkcs12-3des"):
        algorithm, ciphertext = _encrypted_parts(der_sample(name).der)
        cut = tlv(0x30, algorithm + tlv(0x04, ciphertext[:-1]))
        assert_rejected(Payload(PayloadKind.ENCRYPTED_PKCS8, cut), "blocks")


def test_encrypted_pkcs8_with_unknown_cipher_or_scheme_is_rejected() -> None:
    der = der_sample("rsa2048-encrypted-pbes2-aes256").der
    aes256_cbc = bytes.fromhex("0609 6086480165030401 2a")  # OID 2.16.840.1.101.3.4.1.42
    assert der.count(aes256_cbc) == 1
    unknown_cipher = der.replace(aes256_cbc, aes256_cbc[:-1] + b"\x2b")
    assert_rejected(Payload(PayloadKind.ENCRYPTED_PKCS8, unknown_cipher), "unknown cipher")
    pbes2 = bytes.fromhex("06092a864886f70d01050d")
    unknown_scheme = der.replace(pbes2, pbes2[:-1] + b"\x0e")
    assert_rejected(Payload(PayloadKind.ENCRYPTED_PKCS8, unknown_scheme))


def test_legacy_encrypted_pem_is_an_encrypted_key_of_the_hinted_algorithm(
    tmp_path: Path,
) -> None:
    key_path = tmp_path / "key.pem"
    key_path.write_bytes(
        rsa.generate_private_key(65537, 1024).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    pem = openssl("rsa", "-in", key_path, "-aes256", "-traditional", "-passout", PASSPHRASE)
    lines = pem.decode().splitlines()
    is_legacy_encrypted = "Proc-Type: 4,ENCRYPTED" in lines
    assert is_legacy_encrypted
    ciphertext = base64.b64decode("".join(lines[lines.index("") + 1 : -1]))
    payload = Payload(PayloadKind.LEGACY_ENCRYPTED_PEM, ciphertext, algorithm_hint="RSA")
    assert prove(payload) == Key(KeyKind.ENCRYPTED, "RSA", None, None, None)
    unknown_hint = Payload(PayloadKind.LEGACY_ENCRYPTED_PEM, ciphertext, algorithm_hint="RSA2")
    assert prove(unknown_hint).algorithm is None


# --- OpenSSH --------------------------------------------------------------------


@dataclass(frozen=True)
class SshKey:
    name: str
    blob: bytes = field(repr=False)
    fingerprint: str
    algorithm: str
    bits: int
    curve: str | None


def _ssh_keygen(directory: Path, name: str, options: tuple[str, ...]) -> tuple[bytes, str]:
    path = directory / name
    subprocess.run(["ssh-keygen", "-q", "-f", str(path), "-C", "", *options], check=True)
    text = path.read_text().splitlines()
    blob = base64.b64decode("".join(text[1:-1]))
    public_key = serialization.load_ssh_public_key(path.with_suffix(".pub").read_bytes())
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return blob, sha256_fingerprint(spki)


_SSH_KEYS = {
    "rsa3072": (("-t", "rsa", "-b", "3072"), "RSA", 3072, None),
    "ecdsa256": (("-t", "ecdsa", "-b", "256"), "EC", 256, "P-256"),
    "ecdsa384": (("-t", "ecdsa", "-b", "384"), "EC", 384, "P-384"),
    "ecdsa521": (("-t", "ecdsa", "-b", "521"), "EC", 521, "P-521"),
    "ed25519": (
        (
            "-t",
            "ed25519",
        ),
        "Ed25519",
        255,
        None,
    ),
}
_SSH_PROTECTION = {
    "plain": ("-N", ""),
    "aes256-ctr": ("-N", "dumpguard-test"),
    "chacha20": ("-N", "dumpguard-test", "-Z", "chacha20-poly1305@openssh.com"),
    "aes256-gcm": ("-N", "dumpguard-test", "-Z", "aes256-gcm@openssh.com"),
}


# Every algorithm unencrypted; encrypted with each cipher family for Ed25519, and
# once for RSA (RSA key generation is the slow part).
SSH_KEY_NAMES = [
    *(f"{key}-plain" for key in _SSH_KEYS),
    *(f"ed25519-{protection}" for protection in list(_SSH_PROTECTION)[1:]),
    "rsa3072-aes256-ctr",
]


@functools.cache
def ssh_keys() -> dict[str, SshKey]:
    keys = {}
    with tempfile.TemporaryDirectory(prefix="dumpguard-ssh-") as directory:
        for name in SSH_KEY_NAMES:
            key_name, protection = name.split("-", 1)
            options, algorithm, bits, curve = _SSH_KEYS[key_name]
            secret_options = _SSH_PROTECTION[protection]
            blob, fingerprint = _ssh_keygen(Path(directory), name, options + secret_options)
            keys[name] = SshKey(name, blob, fingerprint, algorithm, bits, curve)
    return keys


@pytest.mark.parametrize("name", SSH_KEY_NAMES)
def test_openssh_keys_prove_with_the_header_fingerprint(name: str) -> None:
    ssh_key = ssh_keys()[name]
    kind = KeyKind.PRIVATE if name.endswith("-plain") else KeyKind.ENCRYPTED
    key = prove(Payload(PayloadKind.OPENSSH_PRIVATE, ssh_key.blob))
    assert key == Key(kind, ssh_key.algorithm, ssh_key.bits, ssh_key.curve, ssh_key.fingerprint)


def _ssh_fields(blob: bytes) -> list[tuple[int, int]]:
    """(start, end) of each top-level string after the magic, and of nkeys."""
    position, spans = len(b"openssh-key-v1\x00"), []
    for index in range(6):
        if index == 3:
            spans.append((position, position + 4))
            position += 4
            continue
        length = int.from_bytes(blob[position : position + 4], "big")
        spans.append((position + 4, position + 4 + length))
        position += 4 + length
    return spans


def test_openssh_key_with_a_foreign_header_public_key_is_rejected() -> None:
    key, other = ssh_keys()["ed25519-plain"], ssh_keys()["ed25519-aes256-ctr"]
    public_start, public_end = _ssh_fields(key.blob)[4]
    other_start, other_end = _ssh_fields(other.blob)[4]
    forged = key.blob[:public_start] + other.blob[other_start:other_end] + key.blob[public_end:]
    assert_rejected(Payload(PayloadKind.OPENSSH_PRIVATE, forged))


def test_openssh_rsa_key_with_a_wrong_crt_coefficient_is_rejected() -> None:
    """OpenSSH keys are loaded without cryptography's RSA check too: the arithmetic
    here must catch a broken iqmp (the private section is: checkints, type, n, e, d,
    iqmp, p, q, comment, padding)."""
    blob = bytearray(ssh_keys()["rsa3072-plain"].blob)
    section_start, _ = _ssh_fields(bytes(blob))[5]
    position = section_start + 8
    for _ in range(4):  # key type, n, e, d
        position += 4 + int.from_bytes(blob[position : position + 4], "big")
    iqmp_length = int.from_bytes(blob[position : position + 4], "big")
    blob[position + 4 + iqmp_length - 1] ^= 0x02
    assert_rejected(Payload(PayloadKind.OPENSSH_PRIVATE, bytes(blob)), "CRT coefficient")


def test_broken_encrypted_openssh_keys_are_rejected() -> None:
    chacha = ssh_keys()["ed25519-chacha20"].blob
    assert_rejected(Payload(PayloadKind.OPENSSH_PRIVATE, chacha[:-1]), "trailing")
    aes = ssh_keys()["rsa3072-aes256-ctr"].blob
    cipher_start, cipher_end = _ssh_fields(aes)[0]
    unknown = aes[:cipher_start] + b"aes256-xyz" + aes[cipher_end:]
    assert_rejected(Payload(PayloadKind.OPENSSH_PRIVATE, unknown), "unknown cipher")


# --- garbage --------------------------------------------------------------------


@given(st.sampled_from(list(PayloadKind)), st.binary(max_size=300))
@settings(max_examples=500, deadline=None)
def test_random_payloads_are_never_keys(kind: PayloadKind, data: bytes) -> None:
    """Only KeyProofError, whatever the bytes.  A legacy PEM body is ciphertext: any
    non-empty bytes are accepted once the PEM detector has checked its headers."""
    if kind is PayloadKind.LEGACY_ENCRYPTED_PEM and data:
        return
    with pytest.raises(KeyProofError):
        prove(Payload(kind, data))


def test_bare_32_byte_strings_are_never_keys() -> None:
    secret = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    for kind in PayloadKind:
        if kind is not PayloadKind.LEGACY_ENCRYPTED_PEM:
            assert_rejected(Payload(kind, secret))


# Structures whose fields all depend on each other: any change breaks a check.
# (Not DSA in PKCS#8: it stores x alone, and every x in (1, q) is a key.)
INTERLOCKED = [
    sample.name
    for sample in SAMPLES
    if sample.key_kind is KeyKind.PRIVATE
    and sample.algorithm in ("RSA", "EC", "DSA")
    and sample.name != "dsa2048-pkcs8"
]


@given(st.sampled_from(INTERLOCKED), st.data())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutated_private_keys_are_rejected_or_unchanged(name: str, data: st.DataObject) -> None:
    """A changed byte never yields a different proven key: it is rejected, or it only
    touched what does not change the key (a PKCS#8 version 0 -> 1).  Hypothesis draws
    names and positions, never samples, so a failure report shows no key bytes."""
    sample = der_sample(name)
    der = bytearray(sample.der)
    position = data.draw(st.integers(0, len(der) - 1))
    der[position] ^= data.draw(st.integers(1, 255))
    try:
        key = prove(Payload(sample.kind, bytes(der)))
    except KeyProofError as error:
        assert_message_holds_no_key_bytes(str(error))
        return
    assert key == expected_key(sample)


@given(st.sampled_from([sample.name for sample in SAMPLES]), st.data())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutated_structures_of_every_kind_raise_only_key_proof_errors(
    name: str, data: st.DataObject
) -> None:
    """Public keys, certificates and encrypted keys may survive a change (any point is a
    public key); nothing may escape but KeyProofError, and a survivor keeps its kind."""
    sample = der_sample(name)
    der = bytearray(sample.der)
    for _ in range(data.draw(st.integers(1, 3))):
        der[data.draw(st.integers(0, len(der) - 1))] ^= data.draw(st.integers(1, 255))
    try:
        key = prove(Payload(sample.kind, bytes(der)))
    except KeyProofError as error:
        assert_message_holds_no_key_bytes(str(error))
        return
    assert key.kind is sample.key_kind
