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
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from elftools.elf.elffile import ELFFile

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
MAKE_SAMPLES = SAMPLES / "make_samples.py"
PASSPHRASE = b"x"
FINDING_FIELDS = {"display_path", "offset", "kind", "algorithm", "fingerprint", "known_key_id"}
FINDING_KINDS = {"private-key", "encrypted-private-key", "public-key", "certificate"}
ARTIFACT_KINDS = {"gcore", "planted", "container", "known-keys"}
FINGERPRINT = re.compile(r"sha256:[0-9a-f]{64}")
UTF16_BEGIN = "-----BEGIN".encode("utf-16-le")
OPENSSH_MAGIC = b"openssh-key-v1\x00"
OPENSSH_BASE64_MAGIC = b"b3BlbnNzaC1rZXktdjE"  # base64 of "openssh-key-v1" (+ NUL's first bits)

DUMPS = ["python-pem", "python-utf16", "sleep", "python-clean"]
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
CONTAINERS = [
    "python-pem.core.gz", "python-pem.core.zst", "bundle.tar.gz", "bundle.zip",
    "pem-pkcs8-ec-p384.bin.lz4", "der-pkcs1-rsa.bin.bz2",
]  # fmt: skip
EXPECTED_PATHS = (
    {f"dumps/{name}.core" for name in DUMPS}
    | {f"planted/{name}.bin" for name in PLANTED}
    | {f"containers/{name}" for name in CONTAINERS}
    | {"known-keys"}
)


def artifacts_of(manifest: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [artifact for artifact in manifest["artifacts"] if artifact["kind"] == kind]


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


@pytest.mark.slow
def test_every_finding_follows_the_schema(manifest: dict[str, Any]) -> None:
    for artifact in manifest["artifacts"]:
        assert artifact["kind"] in ARTIFACT_KINDS
        assert set(artifact) == {"path", "kind", "description", "findings"}
        for finding in artifact["findings"]:
            assert set(finding) == FINDING_FIELDS, artifact["path"]
            assert finding["kind"] in FINDING_KINDS
            assert finding["display_path"].split("!")[0] == artifact["path"] or (
                artifact["kind"] == "known-keys"
                and finding["display_path"].startswith("known-keys/")
            )
            if finding["fingerprint"] is None:
                assert finding["kind"] == "encrypted-private-key"
                assert finding["known_key_id"] is None
            else:
                assert FINGERPRINT.fullmatch(finding["fingerprint"])


@pytest.mark.slow
def test_offsets_are_given_for_planted_keys_and_null_in_dumps(manifest: dict[str, Any]) -> None:
    for artifact in artifacts_of(manifest, "planted"):
        assert all(isinstance(finding["offset"], int) for finding in artifact["findings"])
        assert all(finding["offset"] % 2 == 1 for finding in artifact["findings"])
    for artifact in artifacts_of(manifest, "gcore"):
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
    for artifact in artifacts_of(manifest, "planted"):
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
    for artifact in artifacts_of(manifest, "planted"):
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
    }
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
    assert set(known) == {
        "known-keys/spki.pem#1",
        "CN=dumpguard known ec-p384",
        "python-pem-rsa",
        "planted-ed25519",
        "dumpguard-known-openssh-ed25519",
    }
    marked = {
        finding["display_path"]: finding["known_key_id"]
        for artifact in manifest["artifacts"]
        if artifact["kind"] in {"gcore", "planted"}
        for finding in artifact["findings"]
        if finding["known_key_id"] is not None
    }
    assert marked == {
        "dumps/python-pem.core": "python-pem-rsa",
        "planted/pem-pkcs1-rsa.bin": "known-keys/spki.pem#1",
        "planted/pem-pkcs8-ec-p384.bin": "CN=dumpguard known ec-p384",
        "planted/pem-pkcs8-ed25519.bin": "planted-ed25519",
        "planted/pem-openssh.bin": "dumpguard-known-openssh-ed25519",
    }
    for artifact in manifest["artifacts"]:
        for finding in artifact["findings"]:
            if finding["known_key_id"] is not None:
                assert known[finding["known_key_id"]] == finding["fingerprint"]


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
