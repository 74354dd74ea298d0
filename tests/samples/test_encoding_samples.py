"""Issue #4's encoding samples: planted files, the python-encodings core, encodings.tar.zst.

The build runs once per session (`samples_out`, tests/conftest.py).  Every
planted structure is read at its manifest offset by the independent readers
of encoding_decoders.py, so the expectations the end-to-end tests compare
dumpguard with are themselves proven; the core and the container must hold
exactly those structures.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import pytest
import zstandard
from cryptography.hazmat.primitives import serialization

from tests.samples.encoding_decoders import DECODERS, KEYSTORE
from tests.samples.test_make_samples import ENCODING_PLANTED, artifact_at

pytestmark = pytest.mark.slow

CONTAINER = "containers/encodings.tar.zst"
CORE = "dumps/python-encodings.core"
JWKS_KEYS = {"jwks-ec", "jwks-ed25519"}  # the keys/ names of jwks-private.bin's two keys
TOOL_MARKERS = {
    "ppk-v2-rsa": b"PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\n",
    "ppk-v3-ed25519": b"PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n",
    "ppk-v3-encrypted": b"PuTTY-User-Key-File-3: ecdsa-sha2-nistp256\nEncryption: aes256-cbc\n",
    "openpgp-armored": b"-----BEGIN PGP PRIVATE KEY BLOCK-----\n",
    "jks-changeit": b"\xfe\xed\xfe\xed\x00\x00\x00\x02",
}


def planted(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    return artifact_at(manifest, f"planted/{name}.bin")


def key_rows(findings: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(f["kind"], f["algorithm"], f["fingerprint"], f["known_key_id"]) for f in findings}


@pytest.mark.parametrize("name", ENCODING_PLANTED)
def test_planted_encoding_decodes_at_its_offsets(
    samples_out: Path, manifest: dict[str, Any], name: str
) -> None:
    data = (samples_out / f"planted/{name}.bin").read_bytes()
    findings = planted(manifest, name)["findings"]
    assert findings, name
    offsets = sorted({finding["offset"] for finding in findings})
    for offset in offsets:
        expected = {(f["kind"], f["fingerprint"]) for f in findings if f["offset"] == offset}
        assert decoded(name, data[offset:]) == expected, f"{name} at {offset}"


def decoded(name: str, data: bytes) -> set[tuple[str, str | None]]:
    """The reader's result; a reader that fails says which file, never with its locals
    (they hold key bytes), so its traceback is cut."""
    try:
        return DECODERS[name](data)
    except Exception as error:
        message = f"{name}: no {type(error).__name__}-free reading at the stated offset"
    raise AssertionError(message) from None


def test_each_encoding_has_its_own_key(manifest: dict[str, Any]) -> None:
    """So a fingerprint found in the core or the container names the encoding planted."""
    owners: dict[str, str] = {}
    for name in ENCODING_PLANTED:
        for finding in planted(manifest, name)["findings"]:
            if finding["kind"] != KEYSTORE:
                assert owners.setdefault(finding["fingerprint"], name) == name
    assert len(owners) == len(ENCODING_PLANTED) + 1  # the JWKS holds two keys


def test_multi_finding_files_are_the_jwks_and_the_keystores(manifest: dict[str, Any]) -> None:
    counts = {name: len(planted(manifest, name)["findings"]) for name in ENCODING_PLANTED}
    assert {name: n for name, n in counts.items() if n != 1} == {
        "jwks-private": 2,
        "pkcs12-changeit": 2,
        "jks-changeit": 2,
    }
    for name in ("pkcs12-changeit", "jks-changeit"):
        store, key = planted(manifest, name)["findings"]
        assert (store["kind"], store["algorithm"], store["fingerprint"]) == (KEYSTORE, None, None)
        assert (key["kind"], key["offset"]) == ("private-key", store["offset"])


@pytest.mark.parametrize("name", sorted(TOOL_MARKERS))
def test_tool_made_files_are_what_the_tools_write(
    samples_out: Path, manifest: dict[str, Any], name: str
) -> None:
    data = (samples_out / f"planted/{name}.bin").read_bytes()
    offset = planted(manifest, name)["findings"][0]["offset"]
    assert data.startswith(TOOL_MARKERS[name], offset)


def test_encrypted_samples_keep_their_public_half(manifest: dict[str, Any]) -> None:
    for name in ("ppk-v3-encrypted", "openpgp-binary-protected"):
        (finding,) = planted(manifest, name)["findings"]
        assert (finding["kind"], finding["algorithm"]) == ("encrypted-private-key", "EC")
        assert finding["fingerprint"] is not None


def test_encodings_core_expects_every_planted_key(
    samples_out: Path, manifest: dict[str, Any]
) -> None:
    planted_rows = set()
    for name in ENCODING_PLANTED:
        planted_rows |= key_rows(planted(manifest, name)["findings"])
    assert key_rows(artifact_at(manifest, CORE)["findings"]) == planted_rows
    assert all(f["offset"] is None for f in artifact_at(manifest, CORE)["findings"])


def test_encodings_core_holds_no_pem_or_der_of_its_keys(samples_out: Path) -> None:
    """The holder keeps the planted structures only: no PKCS#8 DER or PEM copy it made itself
    (the base64 DER samples hold their DER as text, never as bytes)."""
    core = (samples_out / CORE).read_bytes()
    key_names = set(ENCODING_PLANTED) | JWKS_KEYS
    key_files = [path for path in (samples_out / "keys").iterdir() if path.stem in key_names]
    assert len(key_files) == len(key_names) - 3  # gpg keeps the OpenPGP keys; the JWKS file
    for key_file in key_files:
        key_pem = key_file.read_bytes()
        private_key = serialization.load_pem_private_key(key_pem, password=None)
        der = private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        copies = (der in core, key_pem in core)
        assert copies == (False, False), key_file.name


def test_container_holds_exactly_the_planted_encoding_files(
    samples_out: Path, manifest: dict[str, Any]
) -> None:
    compressed = (samples_out / CONTAINER).read_bytes()
    assert compressed.startswith(b"\x28\xb5\x2f\xfd")  # zstd frame magic (RFC 8878 3.1.1)
    with zstandard.ZstdDecompressor().stream_reader(compressed) as reader:
        tar_bytes = reader.read()
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as archive:
        members = {m.name: archive.extractfile(m).read() for m in archive.getmembers()}  # type: ignore[union-attr]
    assert sorted(members) == sorted(f"{name}.bin" for name in ENCODING_PLANTED)
    for member, data in members.items():
        same = data == (samples_out / "planted" / member).read_bytes()
        assert same, member
    container_findings = artifact_at(manifest, CONTAINER)["findings"]
    for name in ENCODING_PLANTED:
        inside = [
            {**f, "display_path": None}
            for f in container_findings
            if f["display_path"] == f"{CONTAINER}!{name}.bin"
        ]
        source = [{**f, "display_path": None} for f in planted(manifest, name)["findings"]]
        assert inside == source, name
