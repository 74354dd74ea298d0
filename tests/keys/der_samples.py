"""Real DER keys and certificates for the DER detector, rule and prover tests.

Made once per test process (`der_samples()`) by `openssl` and `cryptography` in
a temporary directory; nothing is written into the repository.  Each sample
keeps the DER the tool wrote and what the prover must say about it; the
expected fingerprint is the SHA-256 of the SubjectPublicKeyInfo that
`openssl pkey -pubout` writes for the key, not anything the code under test
computes.  RFC 5958 v2 keys are built by hand from the tool's v1 key and public
key (neither OpenSSL 3.0 nor `cryptography` writes or reads v2).
"""

from __future__ import annotations

import functools
import hashlib
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from scanner.keys.base import KeyKind, PayloadKind

PASSPHRASE = "pass:dumpguard-test-passphrase"


@dataclass(frozen=True)
class DerSample:
    """One structure a tool wrote, the parser that must cut it out, and its proof."""

    name: str
    der: bytes = field(repr=False)
    kind: PayloadKind
    parser: str
    key_kind: KeyKind
    algorithm: str | None
    bits: int | None
    curve: str | None
    fingerprint: str | None


@dataclass(frozen=True)
class _KeyFile:
    """A private key in a PEM file, and what every encoding of it must prove to."""

    name: str
    path: Path
    algorithm: str
    bits: int
    curve: str | None
    fingerprint: str


def openssl(*argv: str | Path) -> bytes:
    return subprocess.run(
        ["openssl", *(str(arg) for arg in argv)], capture_output=True, check=True
    ).stdout


def sha256_fingerprint(spki_der: bytes) -> str:
    return "sha256:" + hashlib.sha256(spki_der).hexdigest()


def tlv(tag: int, content: bytes) -> bytes:
    """DER TLV, written out here so test inputs do not depend on the code under test."""
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    length_bytes = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length_bytes)]) + length_bytes + content


def der_integer(value: int) -> bytes:
    return tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _key_file(
    directory: Path, name: str, algorithm: str, bits: int, curve: str | None, *genpkey: str
) -> _KeyFile:
    path = directory / f"{name}.pem"
    openssl("genpkey", *genpkey, "-out", path)
    spki = openssl("pkey", "-in", path, "-pubout", "-outform", "DER")
    return _KeyFile(name, path, algorithm, bits, curve, sha256_fingerprint(spki))


def _cryptography_rsa_key(directory: Path, bits: int) -> _KeyFile:
    """RSA keys made by `cryptography`, handed to openssl as a PEM file."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    path = directory / f"rsa{bits}.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    spki = openssl("pkey", "-in", path, "-pubout", "-outform", "DER")
    return _KeyFile(f"rsa{bits}", path, "RSA", bits, None, sha256_fingerprint(spki))


def _key_files(directory: Path) -> list[_KeyFile]:
    dsa_params = directory / "dsa-params.pem"
    openssl(
        "genpkey",
        "-genparam",
        "-algorithm",
        "DSA",
        "-pkeyopt",
        "dsa_paramgen_bits:2048",
        "-out",
        dsa_params,
    )
    return [
        _key_file(
            directory,
            "rsa1024",
            "RSA",
            1024,
            None,
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:1024",
        ),
        _cryptography_rsa_key(directory, 2048),
        _cryptography_rsa_key(directory, 3072),
        _key_file(
            directory,
            "rsa4096",
            "RSA",
            4096,
            None,
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:4096",
        ),
        *(
            _key_file(
                directory,
                name,
                "EC",
                bits,
                curve,
                "-algorithm",
                "EC",
                "-pkeyopt",
                f"ec_paramgen_curve:{curve}",
            )
            for name, bits, curve in (
                ("p256", 256, "P-256"),
                ("p384", 384, "P-384"),
                ("p521", 521, "P-521"),
                ("k256", 256, "secp256k1"),
            )
        ),
        _key_file(directory, "dsa2048", "DSA", 2048, None, "-paramfile", str(dsa_params)),
        *(
            _key_file(directory, name.lower(), name, bits, None, "-algorithm", name.upper())
            for name, bits in (("Ed25519", 255), ("X25519", 255), ("Ed448", 448), ("X448", 448))
        ),
    ]


def _private(key: _KeyFile, suffix: str, der: bytes, kind: PayloadKind, parser: str) -> DerSample:
    return DerSample(
        f"{key.name}-{suffix}",
        der,
        kind,
        parser,
        KeyKind.PRIVATE,
        key.algorithm,
        key.bits,
        key.curve,
        key.fingerprint,
    )


def _public(
    key: _KeyFile,
    suffix: str,
    der: bytes,
    kind: PayloadKind,
    parser: str,
    *,
    key_kind: KeyKind = KeyKind.PUBLIC,
) -> DerSample:
    return DerSample(
        f"{key.name}-{suffix}",
        der,
        kind,
        parser,
        key_kind,
        key.algorithm,
        key.bits,
        key.curve,
        key.fingerprint,
    )


def _one_asymmetric_key_v2(v1: bytes, subject_public_key: bytes) -> bytes:
    """RFC 5958: version 1, the v1 fields unchanged, then [1] IMPLICIT BIT STRING publicKey.
    The v1 key starts 30 LL 02 01 00 (or 30 81 LL ...); its fields follow the version."""
    header_length = 3 if v1[1] == 0x81 else 2
    fields = v1[header_length + 3 :]
    return tlv(0x30, bytes.fromhex("020101") + fields + tlv(0x81, b"\x00" + subject_public_key))


def _subject_public_key(key: _KeyFile) -> bytes:
    """The subjectPublicKey bits: the uncompressed point (RFC 5480) or the raw key (RFC 8410)."""
    public_key = serialization.load_pem_private_key(key.path.read_bytes(), None).public_key()
    if key.algorithm == "EC":
        return public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _private_samples(key: _KeyFile) -> Iterator[DerSample]:
    # `openssl pkey -outform DER` writes the traditional form for RSA, EC and DSA.
    pkcs8 = openssl("pkcs8", "-topk8", "-nocrypt", "-in", key.path, "-outform", "DER")
    yield _private(key, "pkcs8", pkcs8, PayloadKind.PKCS8_PRIVATE, "der-pkcs8")
    traditional = {
        "RSA": (("rsa", "-traditional"), PayloadKind.PKCS1_PRIVATE, "der-pkcs1"),
        "EC": (("ec",), PayloadKind.SEC1_PRIVATE, "der-sec1"),
        "DSA": (("dsa",), PayloadKind.DSA_PRIVATE, "der-dsa"),
    }.get(key.algorithm)
    if traditional is not None:
        command, kind, parser = traditional
        der = openssl(*command, "-in", key.path, "-outform", "DER")
        yield _private(key, "traditional", der, kind, parser)
    if key.algorithm not in ("RSA", "DSA"):
        v2 = _one_asymmetric_key_v2(pkcs8, _subject_public_key(key))
        yield _private(key, "pkcs8-v2", v2, PayloadKind.PKCS8_PRIVATE, "der-pkcs8")


def _public_samples(key: _KeyFile) -> Iterator[DerSample]:
    spki = openssl("pkey", "-in", key.path, "-pubout", "-outform", "DER")
    yield _public(key, "spki", spki, PayloadKind.SPKI, "der-spki")
    if key.algorithm == "RSA":
        pkcs1 = openssl("rsa", "-in", key.path, "-RSAPublicKey_out", "-outform", "DER")
        yield _public(key, "pkcs1-public", pkcs1, PayloadKind.PKCS1_PUBLIC, "der-pkcs1-public")


def _certificate_sample(key: _KeyFile) -> DerSample:
    certificate = openssl(
        "req",
        "-x509",
        "-new",
        "-key",
        key.path,
        "-subj",
        "/CN=dumpguard test",
        "-days",
        "2",
        "-outform",
        "DER",
    )
    return _public(
        key,
        "certificate",
        certificate,
        PayloadKind.X509_CERTIFICATE,
        "der-x509",
        key_kind=KeyKind.CERTIFICATE,
    )


def _encrypted_samples(key: _KeyFile) -> Iterator[DerSample]:
    """openssl pkcs8 -topk8 with PBES2 (PBKDF2, scrypt) and a PKCS#12 PBE."""
    for suffix, options in (
        ("pbes2-aes256", ("-v2", "aes-256-cbc")),
        ("pbes2-scrypt", ("-scrypt",)),
        ("pkcs12-3des", ("-v1", "PBE-SHA1-3DES")),
    ):
        der = openssl(
            "pkcs8", "-topk8", "-in", key.path, *options, "-passout", PASSPHRASE, "-outform", "DER"
        )
        yield DerSample(
            f"{key.name}-encrypted-{suffix}",
            der,
            PayloadKind.ENCRYPTED_PKCS8,
            "der-encrypted-pkcs8",
            KeyKind.ENCRYPTED,
            None,
            None,
            None,
            None,
        )


def _rsa_pss_sample(directory: Path) -> DerSample:
    """An RSASSA-PSS key: `cryptography` loads it as RSA and fingerprints the
    rsaEncryption SubjectPublicKeyInfo of the same modulus, built here by hand."""
    path = directory / "rsa-pss.pem"
    openssl("genpkey", "-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:1024", "-out", path)
    rsa_public_key = openssl("rsa", "-in", path, "-RSAPublicKey_out", "-outform", "DER")
    rsa_encryption = bytes.fromhex("300d06092a864886f70d0101010500")
    spki = tlv(0x30, rsa_encryption + tlv(0x03, b"\x00" + rsa_public_key))
    der = openssl("pkey", "-in", path, "-outform", "DER")
    return DerSample(
        "rsa-pss-pkcs8",
        der,
        PayloadKind.PKCS8_PRIVATE,
        "der-pkcs8",
        KeyKind.PRIVATE,
        "RSA",
        1024,
        None,
        sha256_fingerprint(spki),
    )


def _build(directory: Path) -> Iterator[DerSample]:
    keys = _key_files(directory)
    by_name = {key.name: key for key in keys}
    for key in keys:
        yield from _private_samples(key)
        yield from _public_samples(key)
    for name in ("rsa2048", "p384", "ed25519"):
        yield _certificate_sample(by_name[name])
    for name in ("rsa2048", "ed25519"):
        yield from _encrypted_samples(by_name[name])
    yield _rsa_pss_sample(directory)


@functools.cache
def der_samples() -> tuple[DerSample, ...]:
    with tempfile.TemporaryDirectory(prefix="dumpguard-der-") as directory:
        return tuple(_build(Path(directory)))


def der_sample(name: str) -> DerSample:
    return next(sample for sample in der_samples() if sample.name == name)
