"""samples/make_samples.py: the artifacts exist, are what the manifest says, and leak no key.

The build runs once per session (the `samples_out` fixture in tests/conftest.py).
Every planted finding is checked by decoding the structure at its stated
offset with `cryptography` and recomputing its fingerprint, so the manifest
the end-to-end tests compare dumpguard against is itself proven.
"""

from __future__ import annotations

import base64
import bz2
import gzip
import hashlib
import importlib
import json
import lzma
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lz4.frame
import pytest
import zstandard
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from elftools.elf.elffile import ELFFile

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
MAKE_SAMPLES = SAMPLES / "make_samples.py"
PASSPHRASE = b"x"
FINDING_FIELDS = {"display_path", "offset", "kind", "algorithm", "fingerprint", "known_key_id"}
FINDING_KINDS = {"private-key", "encrypted-private-key", "public-key", "certificate", "keystore"}
# Kinds whose fingerprint may be null: an encrypted key without its public half, a keystore.
NO_FINGERPRINT_KINDS = {"encrypted-private-key", "keystore"}
ARTIFACT_KINDS = {"gcore", "gcore-raw", "planted", "container", "known-keys"}
ARTIFACT_FIELDS = {"path", "kind", "description", "findings"}
RAW_ARTIFACT_FIELDS = ARTIFACT_FIELDS | {"pem_copy_present", "raw_layouts"}
FINGERPRINT = re.compile(r"sha256:[0-9a-f]{64}")
UTF16_BEGIN = "-----BEGIN".encode("utf-16-le")
OPENSSH_MAGIC = b"openssh-key-v1\x00"
OPENSSH_BASE64_MAGIC = b"b3BlbnNzaC1rZXktdjE"  # base64 of "openssh-key-v1" (+ NUL's first bits)

DUMPS = ["python-pem", "python-utf16", "sleep", "python-clean", "python-encodings"]
PLANTED = [
    "pem-pkcs1-rsa", "pem-sec1-ec", "pem-dsa-traditional",
    "pem-pkcs8-rsa", "pem-pkcs8-ec-p384", "pem-pkcs8-ed25519", "pem-pkcs8-x25519",
    "pem-pkcs8-ed448", "pem-pkcs8-x448", "pem-pkcs8-dsa", "pem-pkcs8-rsa4096",
    "pem-pkcs8-encrypted", "pem-legacy-encrypted",
    "pem-utf16le", "pem-crlf", "pem-indented", "pem-json-escaped",
    "der-pkcs1-rsa", "der-pkcs8-ec-p256", "der-pkcs8-ed25519", "der-sec1-ec-p384", "der-dsa",
    "der-encrypted-pkcs8",
    "pem-openssh", "pem-openssh-encrypted", "openssh-raw-blob", "openssh-base64-blob",
    "cert-pem", "cert-der", "public-key-pem", "rodata-false-positive",
]  # fmt: skip
# Issue #4's encodings (samplegen/catalogue_encodings.py; checked in test_encoding_samples.py).
ENCODING_PLANTED = [
    "pem-utf16be", "base64-der-pkcs8-rsa", "base64url-der-pkcs8-ec",
    "jwk-rsa", "jwk-escaped-ec", "jwks-private", "dotnet-xml-rsa", "dotnet-xml-utf16le",
    "cng-rsa2", "cng-rsa3", "cng-ecc-private", "capi-privatekeyblob",
    "ppk-v2-rsa", "ppk-v3-ed25519", "ppk-v3-encrypted",
    "openpgp-armored", "openpgp-binary-protected", "pkcs12-changeit", "jks-changeit",
]  # fmt: skip
# dumps-raw/<name>.core -> the private key file under keys/ (None: the clean control).
RAW_DUMPS = {
    "openssl-s-server-rsa": "openssl-s-server-rsa.pem",
    "openssl-s-server-ec": "openssl-s-server-ec.pem",
    "python-dropped-pem": "python-dropped.pem",
    "jvm-keyfactory": "jvm-keyfactory.pem",
    "openssl-s-client-clean": None,
}
RAW_COMPONENTS = {"p", "q", "d", "ec-scalar"}
RAW_LAYOUTS = {"be", "le", "be32-words-le"}
CONTAINERS = [
    "python-pem.core.gz", "python-pem.core.zst", "bundle.tar.gz", "bundle.zip",
    "pem-pkcs8-ec-p384.bin.lz4", "der-pkcs1-rsa.bin.bz2", "encodings.tar.zst",
]  # fmt: skip
EXPECTED_PATHS = (
    {f"dumps/{name}.core" for name in DUMPS}
    | {f"planted/{name}.bin" for name in PLANTED + ENCODING_PLANTED}
    | {f"containers/{name}" for name in CONTAINERS}
    | {f"dumps-raw/{name}.core" for name in RAW_DUMPS}
    | {"known-keys", "known-keys-raw"}
)


def artifacts_of(manifest: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [artifact for artifact in manifest["artifacts"] if artifact["kind"] == kind]


def pem_der_openssh_planted(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The planted files of PLANTED (issue #4's encodings have tests of their own)."""
    paths = {f"planted/{name}.bin" for name in PLANTED}
    return [artifact for artifact in artifacts_of(manifest, "planted") if artifact["path"] in paths]


def artifact_at(manifest: dict[str, Any], path: str) -> dict[str, Any]:
    matches: list[dict[str, Any]] = [
        artifact for artifact in manifest["artifacts"] if artifact["path"] == path
    ]
    assert len(matches) == 1, path
    return matches[0]


def spki_fingerprint(public_key: PublicKeyTypes) -> str:
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(spki).hexdigest()


# --- the manifest -------------------------------------------------------------------------


@pytest.mark.slow
def test_manifest_lists_exactly_the_expected_artifacts(manifest: dict[str, Any]) -> None:
    paths = [artifact["path"] for artifact in manifest["artifacts"]]
    assert len(paths) == len(set(paths))
    assert set(paths) == EXPECTED_PATHS
    assert manifest["schema_version"] == 1
    assert manifest["known_keys_dir"] == "known-keys"
    assert manifest["known_keys_raw_dir"] == "known-keys-raw"


@pytest.mark.slow
def test_every_finding_follows_the_schema(manifest: dict[str, Any]) -> None:
    for artifact in manifest["artifacts"]:
        assert artifact["kind"] in ARTIFACT_KINDS
        raw = artifact["kind"] == "gcore-raw"
        assert set(artifact) == (RAW_ARTIFACT_FIELDS if raw else ARTIFACT_FIELDS)
        for finding in artifact["findings"]:
            assert set(finding) == FINDING_FIELDS, artifact["path"]
            assert finding["kind"] in FINDING_KINDS
            assert finding["display_path"].split("!")[0] == artifact["path"] or (
                artifact["kind"] == "known-keys"
                and finding["display_path"].startswith(artifact["path"] + "/")
            )
            if finding["fingerprint"] is None:
                assert finding["kind"] in NO_FINGERPRINT_KINDS
                assert finding["known_key_id"] is None
            else:
                assert FINGERPRINT.fullmatch(finding["fingerprint"])


@pytest.mark.slow
def test_offsets_are_given_for_planted_keys_and_null_in_dumps(manifest: dict[str, Any]) -> None:
    for artifact in artifacts_of(manifest, "planted"):
        assert all(isinstance(finding["offset"], int) for finding in artifact["findings"])
        assert all(finding["offset"] % 2 == 1 for finding in artifact["findings"])
    for artifact in artifacts_of(manifest, "gcore") + artifacts_of(manifest, "gcore-raw"):
        assert all(finding["offset"] is None for finding in artifact["findings"])


@pytest.mark.slow
def test_every_artifact_exists(samples_out: Path, manifest: dict[str, Any]) -> None:
    for artifact in manifest["artifacts"]:
        path = samples_out / artifact["path"]
        if artifact["kind"] == "known-keys":
            assert path.is_dir()
        else:
            assert path.is_file()
            assert path.stat().st_size > 0


@pytest.mark.slow
def test_manifest_holds_no_key_material(samples_out: Path) -> None:
    """No PEM line, and no 24-character piece of any key's base64 or hex DER, is in it."""
    manifest_text = (samples_out / "manifest.json").read_text()
    key_files = sorted((samples_out / "keys").iterdir())
    assert len(key_files) >= len(PLANTED)
    for key_file in key_files:
        for line in key_file.read_bytes().decode().splitlines():
            if len(line) >= 20 and not line.startswith(("-----", "ssh-", "ecdsa-")):
                assert line not in manifest_text, key_file.name
        if key_file.suffix == ".pem":
            for secret_text in key_material_texts(key_file):
                pieces = [
                    secret_text[start : start + 24] for start in range(0, len(secret_text) - 24, 12)
                ]
                assert not any(piece in manifest_text for piece in pieces), key_file.name


def key_material_texts(key_file: Path) -> list[str]:
    private_key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    texts = []
    for private_format in (
        serialization.PrivateFormat.PKCS8,
        serialization.PrivateFormat.TraditionalOpenSSL,
    ):
        try:
            der = private_key.private_bytes(
                serialization.Encoding.DER, private_format, serialization.NoEncryption()
            )
        except ValueError:  # X25519 and friends have no traditional form
            continue
        texts += [base64.b64encode(der).decode(), der.hex()]
    return texts


# --- gcore dumps ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", DUMPS)
@pytest.mark.slow
def test_gcore_dumps_are_elf_cores(samples_out: Path, name: str) -> None:
    with (samples_out / f"dumps/{name}.core").open("rb") as stream:
        elf = ELFFile(stream)
        assert elf.header["e_type"] == "ET_CORE"
        segment_types = {segment["p_type"] for segment in elf.iter_segments()}
    assert {"PT_NOTE", "PT_LOAD"} <= segment_types


@pytest.mark.slow
def test_python_pem_core_holds_its_ascii_pem(samples_out: Path, manifest: dict[str, Any]) -> None:
    key_pem = (samples_out / "keys/python-pem.pem").read_bytes()
    core = (samples_out / "dumps/python-pem.core").read_bytes()
    assert key_pem in core
    private_key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(private_key, rsa.RSAPrivateKey)
    assert private_key.key_size == 2048
    spki = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert spki not in core  # else a public-key finding the manifest does not list
    (finding,) = artifact_at(manifest, "dumps/python-pem.core")["findings"]
    assert finding["kind"] == "private-key"
    assert finding["algorithm"] == "RSA"
    assert finding["fingerprint"] == spki_fingerprint(private_key.public_key())


@pytest.mark.slow
def test_utf16_core_holds_the_key_only_as_utf16(
    samples_out: Path, manifest: dict[str, Any]
) -> None:
    key_pem = (samples_out / "keys/python-utf16.pem").read_bytes()
    core = (samples_out / "dumps/python-utf16.core").read_bytes()
    assert key_pem.decode().encode("utf-16-le") in core
    assert b"-----BEGIN PRIVATE KEY-----" not in core
    body_lines = [line for line in key_pem.splitlines() if not line.startswith(b"-----")]
    assert not any(line in core for line in body_lines)
    (finding,) = artifact_at(manifest, "dumps/python-utf16.core")["findings"]
    private_key = serialization.load_pem_private_key(key_pem, password=None)
    assert finding["algorithm"] == "EC"
    assert finding["fingerprint"] == spki_fingerprint(private_key.public_key())


@pytest.mark.parametrize("name", ["sleep", "python-clean"])
@pytest.mark.slow
def test_clean_controls_hold_no_pem_key_and_expect_nothing(
    samples_out: Path, manifest: dict[str, Any], name: str
) -> None:
    assert artifact_at(manifest, f"dumps/{name}.core")["findings"] == []
    core = (samples_out / f"dumps/{name}.core").read_bytes()
    assert not re.search(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----\r?\n[A-Za-z0-9+/]{40}", core)


@pytest.mark.slow
def test_python_clean_core_maps_the_crypto_libraries(samples_out: Path) -> None:
    """The control is only useful if it holds what a key-less TLS process holds."""
    core = (samples_out / "dumps/python-clean.core").read_bytes()
    assert b"libcrypto" in core
    assert b"libssl" in core
    assert b"-----BEGIN OPENSSH PRIVATE KEY-----" in core  # cryptography's ssh.py constant


# --- planted files -------------------------------------------------------------------------


@pytest.mark.slow
def test_planted_structures_decode_at_their_offsets(
    samples_out: Path, manifest: dict[str, Any]
) -> None:
    checked = 0
    for artifact in pem_der_openssh_planted(manifest):
        data = (samples_out / artifact["path"]).read_bytes()
        for finding in artifact["findings"]:
            kind, fingerprint = decode_structure(data[finding["offset"] :])
            assert (kind, fingerprint) == (finding["kind"], finding["fingerprint"]), artifact[
                "path"
            ]
            checked += 1
    assert checked == len(PLANTED) - 1  # one key per file, none in the rodata file


@pytest.mark.slow
def test_each_planted_file_holds_one_armored_structure_at_most(
    samples_out: Path, manifest: dict[str, Any]
) -> None:
    for artifact in pem_der_openssh_planted(manifest):
        if artifact["path"] == "planted/rodata-false-positive.bin":
            continue
        data = (samples_out / artifact["path"]).read_bytes()
        assert len(artifact["findings"]) == 1
        assert data.count(b"-----BEGIN") + data.count(UTF16_BEGIN) <= 1
        assert data.count(OPENSSH_MAGIC) + data.count(OPENSSH_BASE64_MAGIC) <= 1


@pytest.mark.slow
def test_rodata_file_holds_bare_headers_and_expects_nothing(
    samples_out: Path, manifest: dict[str, Any]
) -> None:
    assert artifact_at(manifest, "planted/rodata-false-positive.bin")["findings"] == []
    data = (samples_out / "planted/rodata-false-positive.bin").read_bytes()
    assert b"-----BEGIN RSA PRIVATE KEY-----" + bytes(32) in data
    assert b"-----END RSA PRIVATE KEY-----" not in data


@pytest.mark.slow
def test_legacy_encrypted_pem_has_rfc1421_headers(samples_out: Path) -> None:
    data = (samples_out / "planted/pem-legacy-encrypted.bin").read_bytes()
    assert b"Proc-Type: 4,ENCRYPTED" in data
    assert b"DEK-Info: AES-128-CBC," in data


def decode_structure(data: bytes) -> tuple[str, str | None]:
    """(finding kind, fingerprint) of the structure `data` starts with."""
    decoders: list[tuple[bytes, Callable[[bytes], tuple[str, str | None]]]] = [
        (UTF16_BEGIN, lambda d: decode_pem(utf16_text(d))),
        (b"-----BEGIN", lambda d: decode_pem(pem_text(d))),
        (OPENSSH_MAGIC, lambda d: decode_openssh_blob(d[: openssh_blob_length(d)])),
        (OPENSSH_BASE64_MAGIC, decode_openssh_base64),
        (b"\x30", lambda d: decode_der(d[: der_length(d)])),
    ]
    for prefix, decode in decoders:
        if data.startswith(prefix):
            return decode(data)
    raise AssertionError("no structure starts at the stated offset")


def utf16_text(data: bytes) -> bytes:
    end = data.index("-----END".encode("utf-16-le"))
    close = data.index("-----".encode("utf-16-le"), end + 16) + 10
    return data[:close].decode("utf-16-le").encode("ascii")


def pem_text(data: bytes) -> bytes:
    """The armored block, with JSON escapes, indentation and CRLF undone."""
    end = data.index(b"-----END")
    block = data[: data.index(b"-----", end + 8) + 5].replace(b"\\n", b"\n")
    return b"\n".join(line.strip() for line in block.splitlines()) + b"\n"


def decode_pem(text: bytes) -> tuple[str, str | None]:
    label = text.split(b"-----")[1].removeprefix(b"BEGIN ")
    if label == b"OPENSSH PRIVATE KEY":
        body = b"".join(text.splitlines()[1:-1])
        return decode_openssh_blob(base64.b64decode(body))
    if label == b"CERTIFICATE":
        return "certificate", spki_fingerprint(x509.load_pem_x509_certificate(text).public_key())
    if label == b"PUBLIC KEY":
        return "public-key", spki_fingerprint(serialization.load_pem_public_key(text))
    if label == b"ENCRYPTED PRIVATE KEY" or b"Proc-Type: 4,ENCRYPTED" in text:
        serialization.load_pem_private_key(text, password=PASSPHRASE)  # proves the structure
        return "encrypted-private-key", None
    private_key = serialization.load_pem_private_key(text, password=None)
    return "private-key", spki_fingerprint(private_key.public_key())


def der_length(data: bytes) -> int:
    # X.690 8.1.3: short form below 0x80, else 0x80 | count of big-endian length bytes.
    if data[1] < 0x80:
        return 2 + data[1]
    count = data[1] & 0x7F
    return 2 + count + int.from_bytes(data[2 : 2 + count], "big")


def decode_der(der: bytes) -> tuple[str, str | None]:
    try:
        private_key = serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError):
        pass
    else:
        return "private-key", spki_fingerprint(private_key.public_key())
    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError:
        serialization.load_der_private_key(der, password=PASSPHRASE)  # EncryptedPrivateKeyInfo
        return "encrypted-private-key", None
    return "certificate", spki_fingerprint(certificate.public_key())


def ssh_strings(data: bytes, position: int, count: int) -> tuple[list[bytes], int]:
    """`count` RFC 4251 strings (uint32 length + bytes) from `position`."""
    strings = []
    for _ in range(count):
        length = int.from_bytes(data[position : position + 4], "big")
        strings.append(data[position + 4 : position + 4 + length])
        position += 4 + length
    return strings, position


def openssh_blob_length(data: bytes) -> int:
    # PROTOCOL.key: magic, cipher, kdf, kdf options, uint32 N, N public keys, private section.
    _, position = ssh_strings(data, len(OPENSSH_MAGIC), 3)
    key_count = int.from_bytes(data[position : position + 4], "big")
    _, end = ssh_strings(data, position + 4, key_count + 1)
    return end


def decode_openssh_blob(blob: bytes) -> tuple[str, str | None]:
    (cipher, _, _), position = ssh_strings(blob, len(OPENSSH_MAGIC), 3)
    (public_blob,), _ = ssh_strings(blob, position + 4, 1)
    (key_type,), _ = ssh_strings(public_blob, 0, 1)
    line = key_type + b" " + base64.b64encode(public_blob)
    fingerprint = spki_fingerprint(serialization.load_ssh_public_key(line))
    if cipher != b"none":
        return "encrypted-private-key", fingerprint
    armored = b"-----BEGIN OPENSSH PRIVATE KEY-----\n" + base64.encodebytes(blob)
    private_key = serialization.load_ssh_private_key(
        armored + b"-----END OPENSSH PRIVATE KEY-----\n", password=None
    )
    assert spki_fingerprint(private_key.public_key()) == fingerprint
    return "private-key", fingerprint


def decode_openssh_base64(data: bytes) -> tuple[str, str | None]:
    text = re.match(rb"[A-Za-z0-9+/]+=*", data)
    assert text is not None
    return decode_openssh_blob(base64.b64decode(text.group()))


# --- containers ----------------------------------------------------------------------------


@pytest.mark.slow
def test_compressed_cores_decompress_to_the_dump(samples_out: Path) -> None:
    core = (samples_out / "dumps/python-pem.core").read_bytes()
    assert gzip.decompress((samples_out / "containers/python-pem.core.gz").read_bytes()) == core
    zstd_data = (samples_out / "containers/python-pem.core.zst").read_bytes()
    with zstandard.ZstdDecompressor().stream_reader(zstd_data) as reader:
        assert reader.read() == core


@pytest.mark.slow
def test_lz4_and_bz2_hold_their_planted_files(samples_out: Path) -> None:
    lz4_data = (samples_out / "containers/pem-pkcs8-ec-p384.bin.lz4").read_bytes()
    assert (
        lz4.frame.decompress(lz4_data)
        == (samples_out / "planted/pem-pkcs8-ec-p384.bin").read_bytes()
    )
    bz2_data = (samples_out / "containers/der-pkcs1-rsa.bin.bz2").read_bytes()
    assert bz2.decompress(bz2_data) == (samples_out / "planted/der-pkcs1-rsa.bin").read_bytes()


@pytest.mark.slow
def test_archive_members_match_the_display_paths(
    samples_out: Path, manifest: dict[str, Any]
) -> None:
    with tarfile.open(samples_out / "containers/bundle.tar.gz") as archive:
        tar_members = {
            member.name: archive.extractfile(member).read()  # type: ignore[union-attr]
            for member in archive.getmembers()
        }
    assert (
        tar_members["pem-pkcs8-ed25519.bin"]
        == (samples_out / "planted/pem-pkcs8-ed25519.bin").read_bytes()
    )
    assert (
        tar_members["python-utf16.core"] == (samples_out / "dumps/python-utf16.core").read_bytes()
    )
    with zipfile.ZipFile(samples_out / "containers/bundle.zip") as archive:
        assert archive.namelist() == ["pem-pkcs1-rsa.bin.xz"]
        xz_data = archive.read("pem-pkcs1-rsa.bin.xz")
    assert lzma.decompress(xz_data) == (samples_out / "planted/pem-pkcs1-rsa.bin").read_bytes()
    member_paths = {
        finding["display_path"]
        for artifact in artifacts_of(manifest, "container")
        if artifact["path"] != "containers/encodings.tar.zst"  # test_encoding_samples.py
        for finding in artifact["findings"]
        if "!" in finding["display_path"]
    }
    assert member_paths == {
        "containers/bundle.tar.gz!pem-pkcs8-ed25519.bin",
        "containers/bundle.tar.gz!python-utf16.core",
        "containers/bundle.zip!pem-pkcs1-rsa.bin.xz",
    }


@pytest.mark.slow
def test_container_findings_are_their_sources_findings(manifest: dict[str, Any]) -> None:
    sources = {
        "containers/python-pem.core.gz": "dumps/python-pem.core",
        "containers/python-pem.core.zst": "dumps/python-pem.core",
        "containers/bundle.zip!pem-pkcs1-rsa.bin.xz": "planted/pem-pkcs1-rsa.bin",
        "containers/pem-pkcs8-ec-p384.bin.lz4": "planted/pem-pkcs8-ec-p384.bin",
        "containers/der-pkcs1-rsa.bin.bz2": "planted/der-pkcs1-rsa.bin",
        "containers/bundle.tar.gz!pem-pkcs8-ed25519.bin": "planted/pem-pkcs8-ed25519.bin",
        "containers/bundle.tar.gz!python-utf16.core": "dumps/python-utf16.core",
    }
    container_findings = [
        finding
        for artifact in artifacts_of(manifest, "container")
        if artifact["path"] != "containers/encodings.tar.zst"  # test_encoding_samples.py
        for finding in artifact["findings"]
    ]
    assert {finding["display_path"] for finding in container_findings} == set(sources)
    for finding in container_findings:
        (source_finding,) = artifact_at(manifest, sources[finding["display_path"]])["findings"]
        assert {**finding, "display_path": None} == {**source_finding, "display_path": None}


# --- known keys ----------------------------------------------------------------------------


@pytest.mark.slow
def test_known_keys_files_hold_the_public_halves(
    samples_out: Path, manifest: dict[str, Any]
) -> None:
    known = samples_out / "known-keys"
    loaded: dict[str, list[PublicKeyTypes]] = {
        "known-keys/spki.pem": [
            serialization.load_pem_public_key((known / "spki.pem").read_bytes())
        ],
        "known-keys/cert.pem": [
            x509.load_pem_x509_certificate((known / "cert.pem").read_bytes()).public_key()
        ],
        "known-keys/jwks.json": jwks_public_keys(known / "jwks.json"),
        "known-keys/authorized_keys": [
            serialization.load_ssh_public_key((known / "authorized_keys").read_bytes())
        ],
        "known-keys/encodings-spki.pem": [
            serialization.load_pem_public_key((known / "encodings-spki.pem").read_bytes())
        ],
        "known-keys/encodings-cert.pem": [
            x509.load_pem_x509_certificate((known / "encodings-cert.pem").read_bytes()).public_key()
        ],
        "known-keys/encodings-jwks.json": jwks_public_keys(known / "encodings-jwks.json"),
        "known-keys/encodings.pub": [
            serialization.load_ssh_public_key((known / "encodings.pub").read_bytes())
        ],
    }
    assert {path.name for path in known.iterdir()} == {Path(path).name for path in loaded}
    entries = artifact_at(manifest, "known-keys")["findings"]
    for display_path, public_keys in loaded.items():
        listed = [
            entry["fingerprint"] for entry in entries if entry["display_path"] == display_path
        ]
        assert listed == [spki_fingerprint(public_key) for public_key in public_keys]


def jwks_public_keys(path: Path) -> list[PublicKeyTypes]:
    def number(text: str) -> int:
        return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")

    public_keys: list[PublicKeyTypes] = []
    for jwk in json.loads(path.read_text())["keys"]:
        if jwk["kty"] == "RSA":
            public_keys.append(
                rsa.RSAPublicNumbers(number(jwk["e"]), number(jwk["n"])).public_key()
            )
        else:
            raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
            public_keys.append(ed25519.Ed25519PublicKey.from_public_bytes(raw))
    return public_keys


@pytest.mark.slow
def test_known_key_ids_name_the_right_keys(manifest: dict[str, Any]) -> None:
    known = {
        entry["known_key_id"]: entry["fingerprint"]
        for entry in artifact_at(manifest, "known-keys")["findings"]
    }
    encoding_ids = {
        "planted/base64-der-pkcs8-rsa.bin": "known-keys/encodings-spki.pem#1",
        "planted/jwk-rsa.bin": "planted-jwk-rsa",
        "planted/ppk-v3-ed25519.bin": "dumpguard-known-ppk-ed25519",
        "planted/pkcs12-changeit.bin": "CN=dumpguard known pkcs12",
    }
    assert set(known) == {
        "known-keys/spki.pem#1",
        "CN=dumpguard known ec-p384",
        "python-pem-rsa",
        "planted-ed25519",
        "dumpguard-known-openssh-ed25519",
        *encoding_ids.values(),
    }
    marked = {
        (finding["display_path"], finding["known_key_id"])
        for artifact in manifest["artifacts"]
        if artifact["kind"] in {"gcore", "planted"}
        for finding in artifact["findings"]
        if finding["known_key_id"] is not None
    }
    assert marked == {
        ("dumps/python-pem.core", "python-pem-rsa"),
        ("planted/pem-pkcs1-rsa.bin", "known-keys/spki.pem#1"),
        ("planted/pem-pkcs8-ec-p384.bin", "CN=dumpguard known ec-p384"),
        ("planted/pem-pkcs8-ed25519.bin", "planted-ed25519"),
        ("planted/pem-openssh.bin", "dumpguard-known-openssh-ed25519"),
        *encoding_ids.items(),
        *(("dumps/python-encodings.core", key_id) for key_id in encoding_ids.values()),
    }
    for artifact in manifest["artifacts"]:
        if artifact["kind"] == "gcore-raw" or artifact["path"] == "known-keys-raw":
            continue  # their ids come from known-keys-raw (test_raw_known_key_ids_...)
        for finding in artifact["findings"]:
            if finding["known_key_id"] is not None:
                assert known[finding["known_key_id"]] == finding["fingerprint"]


# --- raw-number dumps (dumps-raw/) -----------------------------------------------------------
# Key bytes are compared in-test only: every comparison is computed into a bool first, so a
# failing assert shows True/False and the message, never the bytes pytest would otherwise repr.


def raw_key(samples_out: Path, name: str) -> PrivateKeyTypes:
    key_file = RAW_DUMPS[name]
    assert key_file is not None
    return serialization.load_pem_private_key(
        (samples_out / "keys" / key_file).read_bytes(), password=None
    )


def private_components(private_key: PrivateKeyTypes) -> dict[str, int]:
    if isinstance(private_key, rsa.RSAPrivateKey):
        numbers = private_key.private_numbers()
        return {"p": numbers.p, "q": numbers.q, "d": numbers.d}
    assert isinstance(private_key, ec.EllipticCurvePrivateKey)
    return {"ec-scalar": private_key.private_numbers().private_value}


def in_layout(value: int, layout: str) -> bytes:
    """The number as the layout stores it, without leading zero bytes (zero words for words)."""
    byte_count = (value.bit_length() + 7) // 8
    if layout == "be":
        return value.to_bytes(byte_count, "big")
    if layout == "le":
        return value.to_bytes(byte_count, "little")
    assert layout == "be32-words-le"
    word_count = (value.bit_length() + 31) // 32
    words = [(value >> (32 * index)) & 0xFFFFFFFF for index in reversed(range(word_count))]
    return b"".join(word.to_bytes(4, "little") for word in words)


def raw_core(samples_out: Path, name: str) -> bytes:
    return (samples_out / f"dumps-raw/{name}.core").read_bytes()


@pytest.mark.parametrize("name", RAW_DUMPS)
@pytest.mark.slow
def test_raw_dumps_are_elf_cores(samples_out: Path, name: str) -> None:
    with (samples_out / f"dumps-raw/{name}.core").open("rb") as stream:
        elf = ELFFile(stream)
        assert elf.header["e_type"] == "ET_CORE"
        segment_types = {segment["p_type"] for segment in elf.iter_segments()}
    assert {"PT_NOTE", "PT_LOAD"} <= segment_types


@pytest.mark.slow
def test_raw_layout_entries_follow_the_schema(manifest: dict[str, Any]) -> None:
    for artifact in artifacts_of(manifest, "gcore-raw"):
        assert isinstance(artifact["pem_copy_present"], bool)
        for entry in artifact["raw_layouts"]:
            assert set(entry) == {"component", "layout", "offset"}
            assert entry["component"] in RAW_COMPONENTS
            assert entry["layout"] in RAW_LAYOUTS
            assert isinstance(entry["offset"], int)
            assert entry["offset"] >= 0


@pytest.mark.parametrize("name", [name for name, key_file in RAW_DUMPS.items() if key_file])
@pytest.mark.slow
def test_raw_layouts_hold_the_keys_numbers_at_their_offsets(
    samples_out: Path, manifest: dict[str, Any], name: str
) -> None:
    artifact = artifact_at(manifest, f"dumps-raw/{name}.core")
    core = raw_core(samples_out, name)
    components = private_components(raw_key(samples_out, name))
    assert artifact["raw_layouts"], name
    for entry in artifact["raw_layouts"]:
        number = in_layout(components[entry["component"]], entry["layout"])
        start = entry["offset"]
        number_is_there = core[start : start + len(number)] == number
        assert number_is_there, f"{name}: {entry['component']} {entry['layout']} not at {start}"


@pytest.mark.parametrize("name", [name for name, key_file in RAW_DUMPS.items() if key_file])
@pytest.mark.slow
def test_raw_layouts_list_every_copy(
    samples_out: Path, manifest: dict[str, Any], name: str
) -> None:
    """The manifest hides no copy: each (component, layout) is listed where the core has it."""
    core = raw_core(samples_out, name)
    recorded = {
        (entry["component"], entry["layout"])
        for entry in artifact_at(manifest, f"dumps-raw/{name}.core")["raw_layouts"]
    }
    for component, value in private_components(raw_key(samples_out, name)).items():
        for layout in RAW_LAYOUTS:
            in_core = in_layout(value, layout) in core
            assert in_core == ((component, layout) in recorded), f"{name}: {component} {layout}"


# What the raw-number search must find in each process (issue: keys only as raw numbers).
EXPECTED_RAW_LAYOUTS = {
    "openssl-s-server-rsa": {("p", "le"), ("q", "le")},
    "openssl-s-server-ec": {("ec-scalar", "le")},
    "python-dropped-pem": {("p", "le"), ("q", "le")},
    "jvm-keyfactory": {("p", "be32-words-le"), ("q", "be32-words-le")},
}


@pytest.mark.parametrize("name", EXPECTED_RAW_LAYOUTS)
@pytest.mark.slow
def test_each_process_keeps_its_key_in_its_native_layout(
    manifest: dict[str, Any], name: str
) -> None:
    """OpenSSL BIGNUMs are little-endian 64-bit limbs; a JVM BigInteger is int[] words."""
    recorded = {
        (entry["component"], entry["layout"])
        for entry in artifact_at(manifest, f"dumps-raw/{name}.core")["raw_layouts"]
    }
    assert EXPECTED_RAW_LAYOUTS[name] <= recorded


@pytest.mark.parametrize("name", [name for name, key_file in RAW_DUMPS.items() if key_file])
@pytest.mark.slow
def test_raw_dumps_hold_no_der_or_pem_of_their_key(
    samples_out: Path, manifest: dict[str, Any], name: str
) -> None:
    private_key = raw_key(samples_out, name)
    core = raw_core(samples_out, name)
    der_forms = {
        "PKCS#8": serialization.PrivateFormat.PKCS8,
        "PKCS#1/SEC1": serialization.PrivateFormat.TraditionalOpenSSL,
    }
    for form, private_format in der_forms.items():
        der = private_key.private_bytes(
            serialization.Encoding.DER, private_format, serialization.NoEncryption()
        )
        der_in_core = der in core
        assert not der_in_core, f"{name}: a {form} DER copy of the key is in the core"
    key_pem = (samples_out / "keys" / str(RAW_DUMPS[name])).read_bytes()
    artifact = artifact_at(manifest, f"dumps-raw/{name}.core")
    pem_in_core = key_pem in core
    assert pem_in_core == artifact["pem_copy_present"]
    # s_server reads its PEM through stdio, and cryptography's PEM parser frees
    # buffers that can keep a body line: only the JVM core must be free of PEM text.
    if name.startswith("jvm"):
        body_lines = [line for line in key_pem.splitlines() if not line.startswith(b"-----")]
        body_line_in_core = any(line in core for line in body_lines)
        assert not body_line_in_core, f"{name}: a PEM body line of the key is in the core"


@pytest.mark.slow
def test_raw_findings_name_each_dumps_key(samples_out: Path, manifest: dict[str, Any]) -> None:
    for name, key_file in RAW_DUMPS.items():
        findings = artifact_at(manifest, f"dumps-raw/{name}.core")["findings"]
        if key_file is None:
            assert findings == []
            continue
        (finding,) = findings
        public_key = raw_key(samples_out, name).public_key()
        assert finding["kind"] == "private-key"
        assert finding["algorithm"] == ("EC" if name.endswith("-ec") else "RSA")
        assert finding["fingerprint"] == spki_fingerprint(public_key)


@pytest.mark.slow
def test_clean_raw_control_holds_the_servers_public_key_only(
    samples_out: Path, manifest: dict[str, Any]
) -> None:
    """s_client talked to the RSA s_server: its public key is there, none of its numbers."""
    artifact = artifact_at(manifest, "dumps-raw/openssl-s-client-clean.core")
    assert (artifact["findings"], artifact["raw_layouts"]) == ([], [])
    core = raw_core(samples_out, "openssl-s-client-clean")
    server_key = raw_key(samples_out, "openssl-s-server-rsa")
    spki = server_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    spki_in_core = spki in core
    assert spki_in_core
    for component, value in private_components(server_key).items():
        for layout in RAW_LAYOUTS:
            number_in_core = in_layout(value, layout) in core
            assert not number_in_core, f"{component} {layout} of the server key is in the client"


@pytest.mark.slow
def test_raw_known_keys_hold_the_public_halves(samples_out: Path, manifest: dict[str, Any]) -> None:
    known = samples_out / "known-keys-raw"
    certificates = {
        name: x509.load_pem_x509_certificate((known / f"openssl-{name}-cert.pem").read_bytes())
        for name in ("rsa", "ec")
    }
    loaded: dict[str, tuple[str, PublicKeyTypes]] = {
        "known-keys-raw/openssl-rsa-cert.pem": (
            "CN=dumpguard raw s_server rsa",
            certificates["rsa"].public_key(),
        ),
        "known-keys-raw/openssl-ec-cert.pem": (
            "CN=dumpguard raw s_server ec",
            certificates["ec"].public_key(),
        ),
        "known-keys-raw/python-dropped-spki.pem": (
            "known-keys-raw/python-dropped-spki.pem#1",
            serialization.load_pem_public_key((known / "python-dropped-spki.pem").read_bytes()),
        ),
        "known-keys-raw/jwks.json": ("jvm-keyfactory", jwks_public_keys(known / "jwks.json")[0]),
    }
    entries = artifact_at(manifest, "known-keys-raw")["findings"]
    assert sorted(path.name for path in known.iterdir()) == sorted(
        Path(path).name for path in loaded
    )
    assert {
        entry["display_path"]: (entry["known_key_id"], entry["fingerprint"]) for entry in entries
    } == {
        path: (key_id, spki_fingerprint(public_key))
        for path, (key_id, public_key) in loaded.items()
    }
    assert [key["kid"] for key in json.loads((known / "jwks.json").read_text())["keys"]] == [
        "jvm-keyfactory"
    ]


@pytest.mark.slow
def test_raw_known_key_ids_name_the_dumps_keys(manifest: dict[str, Any]) -> None:
    known = {
        entry["known_key_id"]: entry["fingerprint"]
        for entry in artifact_at(manifest, "known-keys-raw")["findings"]
    }
    marked = {
        finding["display_path"]: finding["known_key_id"]
        for artifact in artifacts_of(manifest, "gcore-raw")
        for finding in artifact["findings"]
    }
    assert marked == {
        "dumps-raw/openssl-s-server-rsa.core": "CN=dumpguard raw s_server rsa",
        "dumps-raw/openssl-s-server-ec.core": "CN=dumpguard raw s_server ec",
        "dumps-raw/python-dropped-pem.core": "known-keys-raw/python-dropped-spki.pem#1",
        "dumps-raw/jvm-keyfactory.core": "jvm-keyfactory",
    }
    for artifact in artifacts_of(manifest, "gcore-raw"):
        for finding in artifact["findings"]:
            assert known[finding["known_key_id"]] == finding["fingerprint"]


@pytest.mark.slow
def test_build_leaves_no_build_area_or_der_behind(samples_out: Path) -> None:
    """javac's classes and the DER the JVM read live in a build area the build deletes."""
    top_level = {path.name for path in samples_out.iterdir()}
    assert top_level == {
        "dumps", "dumps-raw", "planted", "containers", "known-keys", "known-keys-raw", "keys",
        "manifest.json",
    }  # fmt: skip
    assert not [path.name for path in (samples_out / "keys").iterdir() if path.suffix == ".der"]


@pytest.mark.slow
def test_jvm_core_stays_small(samples_out: Path) -> None:
    """gcore writes a JVM's reservations too: without the holder's flags the core is ~1 GB."""
    size = (samples_out / "dumps-raw/jvm-keyfactory.core").stat().st_size
    assert size < 160 * 1024 * 1024


# --- the script ----------------------------------------------------------------------------


def test_missing_gdb_is_a_clear_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, str(MAKE_SAMPLES), "--out", str(out), "--quick"],
        env={"PATH": str(tmp_path)},  # no gcore, gdb or anything else on PATH
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "install gdb: apt-get install gdb" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_replace_dir_swaps_in_the_new_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(SAMPLES))
    build = importlib.import_module("samplegen.build")
    target = tmp_path / "out"
    (target / "planted").mkdir(parents=True)
    (target / "planted" / "stale.bin").write_text("old run")
    (target / "manifest.json").write_text('{"old": true}')
    (target / "bench").mkdir()  # another builder's output (samples/bench_image.py) survives
    (target / "bench" / "image.raw").write_text("bench image")
    built = tmp_path / ".out.building-1"
    (built / "planted").mkdir(parents=True)
    (built / "manifest.json").write_text("{}")
    build.replace_dir(built, target)
    assert sorted(path.name for path in target.iterdir()) == ["bench", "manifest.json", "planted"]
    assert list((target / "planted").iterdir()) == []
    assert (target / "manifest.json").read_text() == "{}"
    assert (target / "bench" / "image.raw").read_text() == "bench image"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"]


@pytest.mark.slow
def test_rerun_replaces_the_out_dir_with_fresh_keys(samples_out: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(samples_out, out)
    stale = out / "planted" / "stale-marker.bin"
    stale.write_text("left by the previous run")
    subprocess.run(
        [sys.executable, str(MAKE_SAMPLES), "--out", str(out), "--quick"], check=True, timeout=300
    )
    assert not stale.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"]  # no staging left over
    rerun = json.loads((out / "manifest.json").read_text())
    assert rerun["quick"] is True
    assert "planted/pem-pkcs8-rsa4096.bin" not in {a["path"] for a in rerun["artifacts"]}
    previous = json.loads((samples_out / "manifest.json").read_text())
    assert fingerprints(rerun).isdisjoint(fingerprints(previous))  # keys are fresh each run


def fingerprints(manifest: dict[str, Any]) -> set[str]:
    return {
        finding["fingerprint"]
        for artifact in manifest["artifacts"]
        for finding in artifact["findings"]
        if finding["fingerprint"] is not None
    }
