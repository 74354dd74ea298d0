"""End to end: the real CLI on keystores made by keytool and openssl (tests/keystore_samples.py).

Stores are planted at unaligned offsets in a raw file and inside a zip; the
JSON report must hold one "keystore" finding per store and one proven private
key per key pair, with the fingerprint of the certificate the tool exported.
No password from --password-file may appear in any output.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.clirun import Run, dumpguard
from tests.keystore_samples import (
    CUSTOM_PASSWORD,
    StoreSample,
    needs_tools,
    spki_fingerprint,
    store_samples,
)

pytestmark = pytest.mark.skipif(not needs_tools, reason="keytool and openssl are needed")


def plant(path: Path, stores: tuple[StoreSample, ...]) -> dict[int, StoreSample]:
    """Every store after an odd-sized gap of random bytes; returns offset -> store."""
    data = bytearray(os.urandom(4097))
    offsets = {}
    for index, store in enumerate(stores):
        data += os.urandom(1000 + 2 * index + 1)
        offsets[len(data)] = store
        data += store.data
    data += os.urandom(555)
    path.write_bytes(bytes(data))
    return offsets


def password_file(tmp_path: Path, *passwords: str) -> Path:
    path = tmp_path / "passwords.txt"
    path.write_text("".join(f"{p}\r\n" for p in passwords), encoding="utf-8")
    return path


def scan_json(*args: str | Path) -> tuple[Run, dict[str, Any]]:
    run = dumpguard("scan", *args, "--format", "json")
    assert run.code in (0, 1), run.stderr
    report: dict[str, Any] = json.loads(run.stdout)
    return run, report


def at(report: dict[str, Any], offset: int, kind: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["offset"] == offset and f["kind"] == kind]


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, StoreSample]]:
    path = tmp_path_factory.mktemp("keystores") / "heap.raw"
    return path, plant(path, store_samples())


def test_every_store_opens_and_every_key_is_proven(
    planted: tuple[Path, dict[int, StoreSample]], tmp_path: Path
) -> None:
    path, offsets = planted
    run, report = scan_json(path, "--password-file", password_file(tmp_path, "x", CUSTOM_PASSWORD))
    assert run.code == 1
    for offset, store in offsets.items():
        (keystore,) = at(report, offset, "keystore")
        assert (keystore["detector"], keystore["encoding"], keystore["severity"]) == (
            store.detector,
            store.encoding,
            "medium",
        )
        assert (keystore["length"], keystore["fingerprint"]) == (len(store.data), None)
        keys = at(report, offset, "private-key")
        assert {k["fingerprint"] for k in keys} == store.fingerprints, store.name
        assert {(k["encoding"], k["severity"], k["length"]) for k in keys} == {
            (store.encoding, "high", len(store.data))
        }
    assert {f["kind"] for f in report["findings"]} == {"keystore", "private-key"}


def test_without_the_password_file_custom_stores_stay_keystores_only(
    planted: tuple[Path, dict[int, StoreSample]], tmp_path: Path
) -> None:
    path, offsets = planted
    _, report = scan_json(path, "--password-file", password_file(tmp_path, "wrong-password"))
    for offset, store in offsets.items():
        (keystore,) = at(report, offset, "keystore")
        keys = at(report, offset, "private-key")
        if store.needs_password_file:
            assert (keystore["encoding"], keys) == (store.kind.value, [])
        else:
            assert {k["fingerprint"] for k in keys} == store.fingerprints


def test_a_closed_store_is_medium_and_gates_only_at_medium(tmp_path: Path) -> None:
    custom = tuple(s for s in store_samples() if s.needs_password_file)
    path = tmp_path / "closed.raw"
    plant(path, custom)
    run, report = scan_json(path)
    assert run.code == 0
    stores = [f for f in report["findings"] if f["kind"] == "keystore"]
    assert [f["severity"] for f in stores] == ["medium"] * len(custom)
    # A JKS keeps its certificates in the clear: they are an inventory, nothing more.
    others = {(f["kind"], f["severity"]) for f in report["findings"] if f not in stores}
    assert others <= {("certificate", "info")}
    assert dumpguard("scan", path, "--fail-on", "medium").code == 1


def test_known_key_inside_a_store_is_critical(tmp_path: Path) -> None:
    store = next(s for s in store_samples() if s.name == "keytool-jks-custom")
    path = tmp_path / "store.raw"
    (offset,) = plant(path, (store,))
    known = tmp_path / "known.pem"
    known.write_bytes(store.certificates[0])
    _, report = scan_json(
        path, "--known-keys", known, "--password-file", password_file(tmp_path, CUSTOM_PASSWORD)
    )
    keys = at(report, offset, "private-key")
    critical = [k for k in keys if k["severity"] == "critical"]
    assert len(keys) == 2
    assert [k["fingerprint"] for k in critical] == [spki_fingerprint(store.certificates[0])]
    assert critical[0]["known_key"]["source"].startswith(str(known))


def test_stores_inside_a_zip_are_found(
    planted: tuple[Path, dict[int, StoreSample]], tmp_path: Path
) -> None:
    path, offsets = planted
    archive = tmp_path / "dumps.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.write(path, "heap.raw")
    _, report = scan_json(archive, "--password-file", password_file(tmp_path, CUSTOM_PASSWORD))
    stores = [f for f in report["findings"] if f["kind"] == "keystore"]
    assert {(f["path"], f["offset"]) for f in stores} == {
        (f"{archive}!heap.raw", offset) for offset in offsets
    }
    fingerprints = {f["fingerprint"] for f in report["findings"] if f["kind"] == "private-key"}
    assert fingerprints == {fp for store in offsets.values() for fp in store.fingerprints}


def test_no_password_from_the_file_appears_in_any_output(
    planted: tuple[Path, dict[int, StoreSample]], tmp_path: Path
) -> None:
    path, _ = planted
    passwords = password_file(tmp_path, "another-Secret-9", CUSTOM_PASSWORD)
    for output_format in ("json", "jsonl", "table", "sarif"):
        run = dumpguard("scan", path, "--password-file", passwords, "--format", output_format)
        assert run.code == 1, run.stderr
        for text in (run.stdout, run.stderr):
            assert CUSTOM_PASSWORD not in text
            assert "another-Secret-9" not in text
        assert "password-file" in run.stdout


def test_missing_or_undecodable_password_file_is_a_usage_error(
    planted: tuple[Path, dict[int, StoreSample]], tmp_path: Path
) -> None:
    path, _ = planted
    missing = tmp_path / "no-such-passwords.txt"
    run = dumpguard("scan", path, "--password-file", missing)
    assert run.code == 2
    assert str(missing) in run.stderr
    assert "Traceback" not in run.stderr
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"ok\n\xff\xfe-not-utf8-\x81\n")
    run = dumpguard("scan", path, "--password-file", binary)
    assert run.code == 2
    assert "not UTF-8" in run.stderr
    assert "not-utf8" not in run.stderr
