"""PemParser on blocks written by openssl, ssh-keygen and cryptography, in every text form.

Keys are made once per test process (`pem_artifacts()`); each artifact keeps
the PEM text the tool wrote and the DER or blob the tool wrote for the same
key.  Payloads are compared by SHA-256 so that a failing assertion never shows
key bytes.  test_rules_text.py reuses the artifacts and variants.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import os
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.detectors.base import Candidate, Window
from scanner.detectors.pem import PemParser
from scanner.keys.base import PayloadKind

PASSPHRASE = "dumpguard-test-passphrase"
PARSER = PemParser()
MAX_LENGTH = PemParser.max_length
WINDOW_START = 0x7F3A_0000_1001  # an odd absolute offset: candidates must add it


@dataclass(frozen=True)
class PemArtifact:
    """One PEM file as a tool wrote it, and the payload it must yield."""

    name: str
    text: str = field(repr=False)
    label: str
    kind: PayloadKind
    expected: bytes = field(repr=False)
    algorithm_hint: str | None = None


def digest(data: bytes) -> str:
    """What assertions compare instead of key bytes."""
    return hashlib.sha256(data).hexdigest()


def _run(*argv: str | Path, stdin: bytes | None = None) -> bytes:
    return subprocess.run(
        [str(arg) for arg in argv], input=stdin, capture_output=True, check=True
    ).stdout


def _openssl(*argv: str | Path, stdin: bytes | None = None) -> bytes:
    return _run("openssl", *argv, stdin=stdin)


def _body_decoded_by_openssl(text: str) -> bytes:
    """The base64 body (after any RFC 1421 headers) decoded by `openssl base64 -d`."""
    lines = text.splitlines()
    body_start = lines.index("") + 1 if "" in lines else 1
    body = "\n".join(lines[body_start:-1]) + "\n"
    return _openssl("base64", "-d", stdin=body.encode())


# --- keys -------------------------------------------------------------------

_GENPKEY_OPTIONS = {
    "rsa1024": ("-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"),
    "rsa2048": ("-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"),
    "rsa4096": ("-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:4096"),
    "p256": ("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"),
    "p384": ("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"),
    "p521": ("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"),
    "ed25519": ("-algorithm", "ED25519"),
}
# openssl command writing the traditional form, and the label it writes.
_TRADITIONAL = {
    "rsa": (("rsa", "-traditional"), "RSA PRIVATE KEY", PayloadKind.PKCS1_PRIVATE, "RSA"),
    "p": (("ec",), "EC PRIVATE KEY", PayloadKind.SEC1_PRIVATE, "EC"),
    "dsa": (("dsa",), "DSA PRIVATE KEY", PayloadKind.DSA_PRIVATE, "DSA"),
}


def _openssl_keys(directory: Path) -> dict[str, Path]:
    keys: dict[str, Path] = {}
    for name, options in _GENPKEY_OPTIONS.items():
        keys[name] = directory / f"{name}.pem"
        _openssl("genpkey", *options, "-out", keys[name])
    params = directory / "dsa-params.pem"
    _openssl(
        "genpkey",
        "-genparam",
        "-algorithm",
        "DSA",
        "-pkeyopt",
        "dsa_paramgen_bits:2048",
        "-out",
        params,
    )
    keys["dsa2048"] = directory / "dsa2048.pem"
    _openssl("genpkey", "-paramfile", params, "-out", keys["dsa2048"])
    return keys


def _traditional(name: str) -> tuple[tuple[str, ...], str, PayloadKind, str] | None:
    family = name.rstrip("0123456789")
    return _TRADITIONAL.get(family)


def _private_artifacts(keys: dict[str, Path], directory: Path) -> Iterator[PemArtifact]:
    for name, key in keys.items():
        yield PemArtifact(
            f"{name}-pkcs8",
            _openssl("pkey", "-in", key).decode(),
            "PRIVATE KEY",
            PayloadKind.PKCS8_PRIVATE,
            _openssl("pkcs8", "-topk8", "-nocrypt", "-in", key, "-outform", "DER"),
        )
        traditional = _traditional(name)
        if traditional is not None:
            command, label, kind, _ = traditional
            yield PemArtifact(
                f"{name}-traditional",
                _openssl(*command, "-in", key).decode(),
                label,
                kind,
                _openssl(*command, "-in", key, "-outform", "DER"),
            )
    for name in ("rsa2048", "p256", "ed25519", "dsa2048"):
        text = _openssl("pkey", "-in", keys[name], "-aes256", "-passout", f"pass:{PASSPHRASE}")
        pem_path = directory / f"{name}-encrypted.pem"
        pem_path.write_bytes(text)
        der = _openssl("asn1parse", "-in", pem_path, "-noout", "-out", "/dev/stdout")
        yield PemArtifact(
            f"{name}-encrypted-pkcs8",
            text.decode(),
            "ENCRYPTED PRIVATE KEY",
            PayloadKind.ENCRYPTED_PKCS8,
            der,
        )


def _legacy_artifacts(keys: dict[str, Path]) -> Iterator[PemArtifact]:
    for name, cipher in (
        ("rsa1024", "-aes128"),
        ("rsa2048", "-camellia256"),
        ("p384", "-des3"),
        ("dsa2048", "-aes256"),
    ):
        traditional = _traditional(name)
        assert traditional is not None
        command, label, _, algorithm = traditional
        text = _openssl(*command, "-in", keys[name], cipher, "-passout", f"pass:{PASSPHRASE}")
        yield PemArtifact(
            f"{name}-legacy{cipher}",
            text.decode(),
            label,
            PayloadKind.LEGACY_ENCRYPTED_PEM,
            _body_decoded_by_openssl(text.decode()),
            algorithm,
        )


def _public_artifacts(keys: dict[str, Path], directory: Path) -> Iterator[PemArtifact]:
    for name in ("rsa2048", "p384", "ed25519", "dsa2048"):
        yield PemArtifact(
            f"{name}-spki",
            _openssl("pkey", "-in", keys[name], "-pubout").decode(),
            "PUBLIC KEY",
            PayloadKind.SPKI,
            _openssl("pkey", "-in", keys[name], "-pubout", "-outform", "DER"),
        )
    rsa_public = ("rsa", "-in", keys["rsa4096"], "-RSAPublicKey_out")
    yield PemArtifact(
        "rsa4096-pkcs1-public",
        _openssl(*rsa_public).decode(),
        "RSA PUBLIC KEY",
        PayloadKind.PKCS1_PUBLIC,
        _openssl(*rsa_public, "-outform", "DER"),
    )
    for name in ("rsa2048", "p256"):
        certificate = directory / f"{name}-cert.pem"
        _openssl(
            "req",
            "-x509",
            "-new",
            "-key",
            keys[name],
            "-subj",
            "/CN=dumpguard-test",
            "-days",
            "2",
            "-out",
            certificate,
        )
        der = _openssl("x509", "-in", certificate, "-outform", "DER")
        text = certificate.read_text()
        yield PemArtifact(
            f"{name}-certificate", text, "CERTIFICATE", PayloadKind.X509_CERTIFICATE, der
        )
        if name == "rsa2048":
            old_label = text.replace("CERTIFICATE-----", "X509 CERTIFICATE-----")
            yield PemArtifact(
                f"{name}-x509-certificate",
                old_label,
                "X509 CERTIFICATE",
                PayloadKind.X509_CERTIFICATE,
                der,
            )
            trusted = _openssl("x509", "-in", certificate, "-trustout", "-addtrust", "serverAuth")
            yield PemArtifact(
                f"{name}-trusted-certificate",
                trusted.decode(),
                "TRUSTED CERTIFICATE",
                PayloadKind.X509_CERTIFICATE,
                der,
            )


def _ssh_keygen_artifacts(directory: Path) -> Iterator[PemArtifact]:
    """ssh-keygen's own files: plaintext and bcrypt-encrypted (-a 2 keeps it fast)."""
    specs = {
        "ssh-ed25519": ("-t", "ed25519", "-N", ""),
        "ssh-ecdsa521": ("-t", "ecdsa", "-b", "521", "-N", ""),
        "ssh-rsa2048-aes256ctr": ("-t", "rsa", "-b", "2048", "-N", PASSPHRASE, "-a", "2"),
        "ssh-ecdsa256-chacha20": (
            "-t",
            "ecdsa",
            "-b",
            "256",
            "-N",
            PASSPHRASE,
            "-a",
            "2",
            "-Z",
            "chacha20-poly1305@openssh.com",
        ),
        "ssh-ed25519-aes256gcm": (
            "-t",
            "ed25519",
            "-N",
            PASSPHRASE,
            "-a",
            "2",
            "-Z",
            "aes256-gcm@openssh.com",
        ),
    }
    for name, options in specs.items():
        path = directory / name
        _run("ssh-keygen", "-q", *options, "-C", "test@dumpguard", "-f", path)
        text = path.read_text()
        yield PemArtifact(
            name,
            text,
            "OPENSSH PRIVATE KEY",
            PayloadKind.OPENSSH_PRIVATE,
            _body_decoded_by_openssl(text),
        )


def _cryptography_artifacts() -> Iterator[PemArtifact]:
    pem = serialization.Encoding.PEM
    der = serialization.Encoding.DER
    plain = serialization.NoEncryption()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    pkcs8 = serialization.PrivateFormat.PKCS8
    yield PemArtifact(
        "crypto-rsa3072-pkcs8",
        rsa_key.private_bytes(pem, pkcs8, plain).decode(),
        "PRIVATE KEY",
        PayloadKind.PKCS8_PRIVATE,
        rsa_key.private_bytes(der, pkcs8, plain),
    )
    traditional = serialization.PrivateFormat.TraditionalOpenSSL
    ec_key = ec.generate_private_key(ec.SECP256R1())
    encryption = serialization.BestAvailableEncryption(PASSPHRASE.encode())
    legacy = ec_key.private_bytes(pem, traditional, encryption).decode()
    yield PemArtifact(
        "crypto-p256-legacy",
        legacy,
        "EC PRIVATE KEY",
        PayloadKind.LEGACY_ENCRYPTED_PEM,
        _body_decoded_by_openssl(legacy),
        "EC",
    )
    openssh = serialization.PrivateFormat.OpenSSH
    for name, key in (
        ("crypto-ssh-ed25519", ed25519.Ed25519PrivateKey.generate()),
        ("crypto-ssh-p384", ec.generate_private_key(ec.SECP384R1())),
    ):
        text = key.private_bytes(pem, openssh, plain).decode()
        yield PemArtifact(
            name,
            text,
            "OPENSSH PRIVATE KEY",
            PayloadKind.OPENSSH_PRIVATE,
            _body_decoded_by_openssl(text),
        )


@functools.cache
def pem_artifacts() -> dict[str, PemArtifact]:
    """Every artifact, made once per test process."""
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        keys = _openssl_keys(directory)
        artifacts = [
            *_private_artifacts(keys, directory),
            *_legacy_artifacts(keys),
            *_public_artifacts(keys, directory),
            *_cryptography_artifacts(),
        ]
        if shutil.which("ssh-keygen"):
            artifacts.extend(_ssh_keygen_artifacts(directory))
    return {artifact.name: artifact for artifact in artifacts}


ARTIFACT_NAMES = [
    *(f"{key}-pkcs8" for key in (*_GENPKEY_OPTIONS, "dsa2048")),
    *(
        f"{key}-traditional"
        for key in ("rsa1024", "rsa2048", "rsa4096", "p256", "p384", "p521", "dsa2048")
    ),
    *(f"{key}-encrypted-pkcs8" for key in ("rsa2048", "p256", "ed25519", "dsa2048")),
    "rsa1024-legacy-aes128",
    "rsa2048-legacy-camellia256",
    "p384-legacy-des3",
    "dsa2048-legacy-aes256",
    *(f"{key}-spki" for key in ("rsa2048", "p384", "ed25519", "dsa2048")),
    "rsa4096-pkcs1-public",
    "rsa2048-certificate",
    "p256-certificate",
    "rsa2048-x509-certificate",
    "rsa2048-trusted-certificate",
    "crypto-rsa3072-pkcs8",
    "crypto-p256-legacy",
    "crypto-ssh-ed25519",
    "crypto-ssh-p384",
    "ssh-ed25519",
    "ssh-ecdsa521",
    "ssh-rsa2048-aes256ctr",
    "ssh-ecdsa256-chacha20",
    "ssh-ed25519-aes256gcm",
]


def artifact(name: str) -> PemArtifact:
    artifacts = pem_artifacts()
    if name.startswith("ssh-") and name not in artifacts:
        pytest.skip("ssh-keygen is not installed")
    return artifacts[name]


# --- text forms ---------------------------------------------------------------


def _crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def _indent(text: str, indentation: str) -> str:
    """Every line indented, as in a YAML block scalar or a config file."""
    return "".join(indentation + line for line in text.splitlines(keepends=True))


def rewrap(text: str, width: int | None) -> str:
    """The same block with its base64 body on lines of `width` (None: one line)."""
    lines = text.splitlines()
    body_start = lines.index("") + 1 if "" in lines else 1
    body = "".join(lines[body_start:-1])
    chunks = [body] if width is None else [body[i : i + width] for i in range(0, len(body), width)]
    return "\n".join([*lines[:body_start], *chunks, lines[-1]]) + "\n"


def _utf16(text: str) -> bytes:
    return text.encode("utf-16le")


def _ascii(text: str) -> bytes:
    return text.encode("ascii")


# variant name -> (text form -> stored bytes, expected encoding)
VARIANTS: dict[str, tuple[Callable[[str], bytes], str]] = {
    "lf": (_ascii, "ascii"),
    "crlf": (lambda t: _ascii(_crlf(t)), "ascii"),
    "indented-spaces": (lambda t: _ascii(_indent(t, "    ")), "ascii"),
    "indented-tabs-crlf": (lambda t: _ascii(_indent(_crlf(t), "\t\t")), "ascii"),
    "one-line": (lambda t: _ascii(rewrap(t, None)), "ascii"),
    "wrap-76": (lambda t: _ascii(rewrap(t, 76)), "ascii"),
    "json": (lambda t: _ascii(json.dumps(t)), "ascii-escaped"),
    "json-crlf": (lambda t: _ascii(json.dumps(_crlf(t))), "ascii-escaped"),
    "json-indented-tabs": (lambda t: _ascii(json.dumps(_indent(t, "\t"))), "ascii-escaped"),
    "json-slash-escaped": (lambda t: _ascii(json.dumps(t).replace("/", "\\/")), "ascii-escaped"),
    "utf16le": (_utf16, "utf-16le"),
    "utf16le-crlf-indented": (lambda t: _utf16(_indent(_crlf(t), "  ")), "utf-16le"),
    "utf16le-one-line": (lambda t: _utf16(rewrap(t, None)), "utf-16le"),
    "utf16le-json": (lambda t: _utf16(json.dumps(t)), "utf-16le-escaped"),
    "utf16le-json-crlf": (lambda t: _utf16(json.dumps(_crlf(t))), "utf-16le-escaped"),
}


@dataclass(frozen=True)
class Planted:
    """A variant's bytes and where, inside them, the block should be cut."""

    stored: bytes = field(repr=False)
    begin: int
    length: int
    encoding: str


def plant_variant(item: PemArtifact, variant: str) -> Planted:
    """Encode the artifact in a variant; find BEGIN/END in the result independently."""
    encode, encoding = VARIANTS[variant]
    stored = encode(item.text)
    as_stored = _utf16 if encoding.startswith("utf-16le") else _ascii
    begin = stored.index(as_stored("-----BEGIN "))
    end_line = as_stored(f"-----END {item.label}-----")
    end = stored.index(end_line) + len(end_line)
    return Planted(stored, begin, end - begin, encoding)


def background(kind: str, size: int, seed: int) -> bytes:
    if kind == "zeros":
        return bytes(size)
    return random.Random(seed).randbytes(size)


def parse_at(data: bytes, position: int, start: int = WINDOW_START) -> list[Candidate]:
    return list(PARSER.parse(Window(data, start, start + len(data)), position))


def assert_candidate(
    candidate: Candidate, item: PemArtifact, offset: int, planted: Planted
) -> None:
    assert candidate.detector == "pem"
    assert candidate.encoding == planted.encoding
    assert candidate.offset == offset
    assert candidate.length == planted.length
    assert candidate.payload.kind is item.kind
    assert candidate.payload.algorithm_hint == item.algorithm_hint
    assert digest(candidate.payload.data) == digest(item.expected)


# --- every artifact in every form --------------------------------------------


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", ARTIFACT_NAMES)
def test_block_in_every_form_gives_one_candidate(name: str, variant: str) -> None:
    item = artifact(name)
    planted = plant_variant(item, variant)
    for kind in ("random", "zeros"):
        before = background(kind, 4099, seed=len(name))
        after = background(kind, 1013, seed=len(variant))
        data = before + planted.stored + after
        position = len(before) + planted.begin
        candidates = parse_at(data, position)
        assert len(candidates) == 1, kind
        assert_candidate(candidates[0], item, WINDOW_START + position, planted)


def test_artifacts_cover_every_label_and_kind() -> None:
    artifacts = pem_artifacts().values()
    labels = {item.label for item in artifacts}
    assert labels >= {
        "PRIVATE KEY",
        "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
        "DSA PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "PUBLIC KEY",
        "RSA PUBLIC KEY",
        "CERTIFICATE",
        "X509 CERTIFICATE",
        "TRUSTED CERTIFICATE",
    }
    kinds = {item.kind for item in artifacts}
    # Raw numbers found through known keys have no PEM form; nor do the payloads other
    # encodings hand over (keystores, the clear public half of an encrypted PPK/OpenPGP key).
    raw_numbers = {PayloadKind.RSA_FACTOR, PayloadKind.EC_SCALAR, PayloadKind.ECX_SEED}
    not_pem = {PayloadKind.PKCS12, PayloadKind.JKS, PayloadKind.JCEKS, PayloadKind.ENCRYPTED_SPKI}
    assert kinds == set(PayloadKind) - raw_numbers - not_pem
    legacy_headers = [
        item.text.splitlines()[2]
        for item in artifacts
        if item.kind is PayloadKind.LEGACY_ENCRYPTED_PEM
    ]
    assert {header.split(",")[0] for header in legacy_headers} >= {
        "DEK-Info: AES-128-CBC",
        "DEK-Info: DES-EDE3-CBC",
        "DEK-Info: CAMELLIA-256-CBC",
    }


def test_trusted_certificate_yields_only_the_certificate() -> None:
    item = artifact("rsa2048-trusted-certificate")
    decoded_body = _body_decoded_by_openssl(item.text)
    assert len(decoded_body) > len(item.expected)  # the X509_AUX trust settings follow
    [candidate] = parse_at(_ascii(item.text), 0)
    assert digest(candidate.payload.data) == digest(item.expected)


# --- what must give nothing ----------------------------------------------------

RODATA_STRINGS = [
    b"-----BEGIN RSA PRIVATE KEY-----\x00\x00\x00\x00\x00\x00\x00\x00",
    b"-----BEGIN RSA PRIVATE KEY-----\x00-----END RSA PRIVATE KEY-----\x00",
    b"-----BEGIN RSA PRIVATE KEY-----\n\x00-----END RSA PRIVATE KEY-----\n\x00",
    b"-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----\n",
    b"-----BEGIN PRIVATE KEY-----\x00Proc-Type: 4,ENCRYPTED\x00DEK-Info: \x00%s,%s\x00",
    b"-----BEGIN %s-----\n\x00-----END %s-----\n\x00",
    b"-----BEGIN \x00-----END \x00-----\n\x00",
    b"-----BEGIN OPENSSH PRIVATE KEY-----\n\x00-----END OPENSSH PRIVATE KEY-----\n\x00",
    b"-----BEGIN CERTIFICATE-----\\n\x00-----END CERTIFICATE-----\\n\x00",
]


@pytest.mark.parametrize("rodata", RODATA_STRINGS)
@pytest.mark.parametrize("utf16", [False, True])
def test_header_strings_in_rodata_give_nothing(rodata: bytes, utf16: bool) -> None:
    stored = rodata.decode("latin-1").encode("utf-16le") if utf16 else rodata
    data = b"\x00" * 17 + stored + b"usage: %s [options]\x00\x00" + bytes(64)
    assert parse_at(data, 17) == []


TRUNCATION_CASES = [
    "rsa2048-pkcs8",
    "p384-legacy-des3",
    "rsa2048-trusted-certificate",
    "ssh-ed25519",
]


@pytest.mark.parametrize("variant", ["lf", "crlf", "json", "utf16le"])
@pytest.mark.parametrize("name", TRUNCATION_CASES)
def test_block_cut_at_any_line_gives_nothing(name: str, variant: str) -> None:
    item = artifact(name)
    lines = item.text.splitlines(keepends=True)
    encode, _ = VARIANTS[variant]
    for kept in range(1, len(lines)):
        cut_text = "".join(lines[:kept])
        # the cut inside the END line too: all but its last "-"
        for text in (cut_text, cut_text + lines[-1].rstrip("\n")[:-1]):
            data = encode(text) + bytes(300)
            assert parse_at(data, data.index(b"-")) == [], kept


def _with_line_replaced(text: str, line_index: int, new_line: str) -> str:
    lines = text.splitlines()
    lines[line_index] = new_line
    return "\n".join(lines) + "\n"


def _junk_variants(text: str) -> Iterator[tuple[str, str]]:
    lines = text.splitlines()
    middle = len(lines) // 2
    line = lines[middle]
    yield "nul inside a line", _with_line_replaced(text, middle, line[:10] + "\x00" + line[11:])
    yield "bang inside a line", _with_line_replaced(text, middle, line[:10] + "!" + line[11:])
    yield "junk line", _with_line_replaced(text, middle, line + "\n<junk>")
    yield "blank line in body", _with_line_replaced(text, middle, line + "\n")
    yield "one character lost", _with_line_replaced(text, middle, line[1:])
    yield "one group lost", _with_line_replaced(text, middle, line[4:])
    yield "padding in the middle", _with_line_replaced(text, middle, line[:-4] + "AA==")
    yield "text after BEGIN", text.replace("-----\n", "----- trailing\n", 1)
    yield "space inside label", text.replace("-----BEGIN ", "-----BEGIN  ", 1)


@pytest.mark.parametrize(
    "name",
    ["rsa2048-pkcs8", "p256-traditional", "rsa2048-certificate", "p384-legacy-des3", "ssh-ed25519"],
)
def test_junk_inside_gives_nothing(name: str) -> None:
    item = artifact(name)
    for what, text in _junk_variants(item.text):
        for variant in ("lf", "utf16le-json"):
            encode, _ = VARIANTS[variant]
            assert parse_at(encode(text) + bytes(64), 0) == [], (what, variant)


@pytest.mark.parametrize("name", ["rsa2048-pkcs8", "p256-traditional", "rsa4096-pkcs1-public"])
def test_end_label_must_match_begin_label(name: str) -> None:
    item = artifact(name)
    for other in ("CERTIFICATE", "PUBLIC KEY", "PRIVATE KEY", "RSA PRIVATE KEY"):
        if other == item.label:
            continue
        text = item.text.replace(f"-----END {item.label}-----", f"-----END {other}-----")
        assert parse_at(_ascii(text), 0) == [], other


def test_end_of_another_block_does_not_close_a_truncated_one() -> None:
    first = artifact("rsa2048-pkcs8").text
    second = artifact("p256-pkcs8").text
    truncated_first = "".join(first.splitlines(keepends=True)[:5])
    data = _ascii(truncated_first + second)
    assert parse_at(data, 0) == []
    [candidate] = parse_at(data, len(truncated_first))
    assert digest(candidate.payload.data) == digest(artifact("p256-pkcs8").expected)


def _legacy_header_variants(text: str) -> Iterator[tuple[str, str]]:
    lines = text.splitlines()
    cipher, iv = lines[2].removeprefix("DEK-Info: ").split(",")
    yield "unknown cipher", _with_line_replaced(text, 2, f"DEK-Info: AES-128-XTS,{iv}")
    yield "short IV", _with_line_replaced(text, 2, f"DEK-Info: {cipher},{iv[:-2]}")
    yield "IV not hex", _with_line_replaced(text, 2, f"DEK-Info: {cipher},{iv[:-1]}G")
    yield "no IV", _with_line_replaced(text, 2, f"DEK-Info: {cipher}")
    yield "not encrypted", _with_line_replaced(text, 1, "Proc-Type: 4,MIC-ONLY")
    yield "no Proc-Type", "\n".join(lines[:1] + lines[2:]) + "\n"
    yield "no blank line", "\n".join(lines[:3] + lines[4:]) + "\n"
    yield "extra header", _with_line_replaced(text, 2, lines[2] + "\nComment: x")
    yield "headers on PKCS#8", text.replace(" EC PRIVATE KEY-----", " PRIVATE KEY-----")
    body_lines = lines[4:-1]
    # 3 bytes shorter: no longer a multiple of the cipher block
    shortened = "\n".join([*lines[:4], "".join(body_lines)[4:], lines[-1]]) + "\n"
    yield "ciphertext not whole blocks", shortened


def test_legacy_headers_are_checked() -> None:
    item = artifact("p384-legacy-des3")
    assert parse_at(_ascii(item.text), 0) != []
    for what, text in _legacy_header_variants(item.text):
        assert parse_at(_ascii(text) + b"\x00", 0) == [], what


def test_non_ascii_utf16_character_inside_gives_nothing() -> None:
    text = artifact("rsa2048-pkcs8").text
    lines = text.splitlines()
    broken = _with_line_replaced(text, 3, lines[3][:20] + "é" + lines[3][21:])
    assert parse_at(_utf16(broken), 0) == []
    assert len(parse_at(_utf16(text), 0)) == 1


# --- max_length: the overlap contract -------------------------------------------


def der_length(content_length: int) -> int:
    """Bytes of a DER TLV with a one-byte tag (X.690 8.1.3 definite length)."""
    if content_length < 0x80:
        return 2 + content_length
    return 2 + math.ceil(content_length.bit_length() / 8) + content_length


def der_integer_length(bits: int) -> int:
    """Most bytes a positive INTEGER below 2**bits takes (0x00 first when the top bit is set)."""
    return der_length(bits // 8 + 1)


RSA_ENCRYPTION_ALGORITHM = bytes.fromhex("300d06092a864886f70d0101010500")


def rsa_pkcs8_length(bits: int) -> int:
    """Largest PrivateKeyInfo (RFC 5208) of an RSA key with e = 65537 (RFC 8017 A.1.2)."""
    half = bits // 2
    rsa_private_key = der_length(
        der_integer_length(1)
        + der_integer_length(bits)
        + der_integer_length(17)
        + der_integer_length(bits)
        + 5 * der_integer_length(half)
    )
    return der_length(
        der_integer_length(1) + len(RSA_ENCRYPTION_ALGORITHM) + der_length(rsa_private_key)
    )


def encrypted_pkcs8_length(plain_length: int, algorithm_length: int) -> int:
    """EncryptedPrivateKeyInfo: AlgorithmIdentifier + OCTET STRING of AES-CBC ciphertext."""
    ciphertext = (plain_length // 16 + 1) * 16  # PKCS#7 padding always adds 1..16 bytes
    return der_length(algorithm_length + der_length(ciphertext))


def pem_characters(
    label: str, der_bytes: int, newline: str, indentation: str, width: int = 64
) -> int:
    """Characters of a PEM block: BEGIN line, wrapped base64, END line (RFC 7468)."""
    base64_characters = 4 * math.ceil(der_bytes / 3)
    lines = math.ceil(base64_characters / width)
    begin_line = len(f"-----BEGIN {label}-----") + len(newline)
    end_line = len(indentation) + len(f"-----END {label}-----")
    return begin_line + lines * (len(indentation) + len(newline)) + base64_characters + end_line


def _tlv_total(der: bytes) -> int:
    """Bytes of the DER TLV at der[0]."""
    if der[1] < 0x80:
        return 2 + der[1]
    count = der[1] & 0x7F
    return 2 + count + int.from_bytes(der[2 : 2 + count], "big")


def openssl_pbes2_algorithm() -> bytes:
    """The PBES2 AlgorithmIdentifier OpenSSL writes, cut from a real encrypted key."""
    encrypted = artifact("rsa2048-encrypted-pkcs8").expected
    header = 2 + (encrypted[1] & 0x7F if encrypted[1] & 0x80 else 0)
    return encrypted[header : header + _tlv_total(encrypted[header:])]


def openssl_pbes2_algorithm_length() -> int:
    return len(openssl_pbes2_algorithm())


def test_der_length_formula_bounds_real_keys() -> None:
    for bits in (1024, 2048, 4096):
        real = len(artifact(f"rsa{bits}-pkcs8").expected)
        assert real <= rsa_pkcs8_length(bits) <= real + 32, bits
    real_encrypted = len(artifact("rsa2048-encrypted-pkcs8").expected)
    plain = len(artifact("rsa2048-pkcs8").expected)
    assert encrypted_pkcs8_length(plain, openssl_pbes2_algorithm_length()) == real_encrypted


def largest_block_bytes(indentation: str) -> int:
    """RSA-16384 PKCS#8 (encrypted, the larger), JSON-escaped CRLF, UTF-16LE."""
    plain = rsa_pkcs8_length(16384)
    encrypted = encrypted_pkcs8_length(plain, openssl_pbes2_algorithm_length())
    assert encrypted > plain
    characters = pem_characters("ENCRYPTED PRIVATE KEY", encrypted, "\\r\\n", indentation)
    return 2 * characters


def test_max_length_covers_rsa16384_pkcs8_escaped_utf16() -> None:
    assert rsa_pkcs8_length(16384) == 9289
    assert largest_block_bytes("") <= MAX_LENGTH
    # the module comment promises 98 characters of indentation on every line
    assert largest_block_bytes(" " * 98) <= MAX_LENGTH < largest_block_bytes(" " * 99)


def synthetic_encrypted_pkcs8(seed: int) -> bytes:
    """An EncryptedPrivateKeyInfo of the size an RSA-16384 key gives (the parser proves nothing)."""
    algorithm = openssl_pbes2_algorithm()
    ciphertext_length = (rsa_pkcs8_length(16384) // 16 + 1) * 16
    octet_string = b"\x04\x82" + ciphertext_length.to_bytes(2, "big")
    ciphertext = random.Random(seed).randbytes(ciphertext_length)
    content = algorithm + octet_string + ciphertext
    return b"\x30\x82" + len(content).to_bytes(2, "big") + content


def pem_text(label: str, der: bytes, newline: str, indentation: str) -> str:
    body = base64.b64encode(der).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    block = [
        f"-----BEGIN {label}-----",
        *(indentation + line for line in lines),
        indentation + f"-----END {label}-----",
    ]
    return newline.join(block)


def test_largest_block_is_found_in_a_window_cut_at_position_plus_max_length() -> None:
    der = synthetic_encrypted_pkcs8(seed=16384)
    assert len(der) == encrypted_pkcs8_length(
        rsa_pkcs8_length(16384), openssl_pbes2_algorithm_length()
    )
    stored = _utf16(pem_text("ENCRYPTED PRIVATE KEY", der, "\\r\\n", " " * 98))
    assert len(stored) == largest_block_bytes(" " * 98)
    data = os.urandom(3001) + stored + os.urandom(MAX_LENGTH)
    position = 3001
    for window_end in (position + len(stored), position + MAX_LENGTH):
        [candidate] = parse_at(data[:window_end], position)
        assert candidate.length == len(stored)
        assert candidate.encoding == "utf-16le-escaped"
        assert digest(candidate.payload.data) == digest(der)
    # one byte short of the END line: the block is not whole, so no candidate
    assert parse_at(data[: position + len(stored) - 1], position) == []


@pytest.mark.parametrize("overshoot", [-2, -1, 0, 1, 2, 64])
def test_block_longer_than_max_length_is_no_candidate(overshoot: int) -> None:
    """A block ending exactly at position+max_length is found; one byte more is not."""
    end_line = "-----END PRIVATE KEY-----"
    begin_line = "-----BEGIN PRIVATE KEY-----\n"
    der_size = 48_000  # base64 of this is about 64,000 characters: near the limit in ASCII
    der = b"\x30\x83" + (der_size - 5).to_bytes(3, "big") + os.urandom(der_size - 5)
    body = base64.b64encode(der).decode() + "\n"
    indentation = MAX_LENGTH + overshoot - len(begin_line) - len(body) - len(end_line)
    text = begin_line + body + " " * indentation + end_line
    assert len(text) == MAX_LENGTH + overshoot
    position = 11
    data = b"x" * position + _ascii(text) + os.urandom(4096)
    candidates = parse_at(data, position)
    assert len(candidates) == (1 if overshoot <= 0 else 0)


# --- hypothesis: garbage never raises, never reads past max_length ----------------

LABEL_CHOICES = [
    b"PRIVATE KEY",
    b"RSA PRIVATE KEY",
    b"EC PRIVATE KEY",
    b"CERTIFICATE",
    b"OPENSSH PRIVATE KEY",
    b"TRUSTED CERTIFICATE",
    b"NOT A LABEL",
    b"",
]


def _check_bounds(candidates: list[Candidate], position: int) -> None:
    for candidate in candidates:
        assert candidate.offset == WINDOW_START + position
        assert 0 < candidate.length <= MAX_LENGTH


@settings(max_examples=300, deadline=None)
@given(
    label=st.sampled_from(LABEL_CHOICES),
    separator=st.sampled_from([b"\n", b"\r\n", b"\\n", b"", b"\x00"]),
    tail=st.binary(max_size=600),
    utf16=st.booleans(),
    prefix=st.binary(max_size=9),
)
def test_random_bytes_after_begin_never_raise(
    label: bytes, separator: bytes, tail: bytes, utf16: bool, prefix: bytes
) -> None:
    text = b"-----BEGIN " + label + b"-----" + separator + tail
    stored = text.decode("latin-1").encode("utf-16le") if utf16 else text
    _check_bounds(parse_at(prefix + stored, len(prefix)), len(prefix))


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(
        ["p256-pkcs8", "p384-legacy-des3", "ssh-ed25519", "rsa2048-trusted-certificate"]
    ),
    variant=st.sampled_from(["lf", "json-crlf", "utf16le"]),
    edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=4),
    cut=st.integers(min_value=0),
)
def test_mutated_blocks_never_raise(
    name: str, variant: str, edits: list[tuple[int, int]], cut: int
) -> None:
    planted = plant_variant(artifact(name), variant)
    stored = bytearray(planted.stored)
    for index, value in edits:
        stored[index % len(stored)] = value
    data = bytes(stored[: len(stored) - cut % len(stored)])
    _check_bounds(parse_at(data, planted.begin), planted.begin)


@settings(max_examples=60, deadline=None)
@given(
    tail=st.binary(min_size=1, max_size=256),
    variant=st.sampled_from(list(VARIANTS)),
    lead=st.integers(min_value=0, max_value=40),
)
def test_bytes_beyond_position_plus_max_length_change_nothing(
    tail: bytes, variant: str, lead: int
) -> None:
    planted = plant_variant(artifact("rsa4096-pkcs8"), variant)
    filler = random.Random(lead).randbytes(MAX_LENGTH - len(planted.stored) + planted.begin)
    data = bytes(lead) + planted.stored + filler
    position = lead + planted.begin
    assert len(data) == position + MAX_LENGTH
    bounded = parse_at(data, position)
    assert bounded == parse_at(data + tail, position)
    [candidate] = bounded
    assert candidate.offset + candidate.length <= WINDOW_START + position + MAX_LENGTH


class _UnboundedPemParser(PemParser):
    """max_length far past any window: work per anchor must not grow with it."""

    max_length = 1 << 40


@pytest.mark.parametrize(
    "unit",
    [
        b"-----BEGIN PRIVATE KEY-----\n",
        _utf16("-----BEGIN PRIVATE KEY-----\r\n"),
        b"-----BEGIN PRIVATE KEY-----\n" + b"QUFB" * 200 + b"\n",
        b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n",
    ],
    ids=["ascii-headers", "utf16le-headers", "headers-and-base64", "legacy-headers"],
)
def test_dense_anchors_cost_no_more_than_their_distance(unit: bytes) -> None:
    """A hostile dump repeating BEGIN lines: each anchor reads only up to the next "-----"."""
    data = unit * 60_000
    window = Window(data, 0, len(data))
    parser = _UnboundedPemParser()
    started = time.monotonic()
    found = [
        candidate
        for position in range(0, len(data), len(unit))
        for candidate in parser.parse(window, position)
    ]
    assert found == []
    assert time.monotonic() - started < 5.0  # about 0.1 s; reading to the window end takes minutes
