"""End to end: the real CLI on real gcore dumps, planted files and containers.

Expectations come from samples/out/manifest.json, written by
samples/make_samples.py beside the artifacts (fingerprints only).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from tests.clirun import dumpguard

pytestmark = pytest.mark.slow

Row = tuple[str, int | None, str, str | None, str | None, str | None]


@pytest.fixture(scope="module", params=["yara-x", "yara-python"])
def report(request: pytest.FixtureRequest, samples_out: Path) -> dict[str, Any]:
    run = dumpguard(
        "scan",
        "dumps",
        "planted",
        "containers",
        "--known-keys",
        "known-keys",
        "--format",
        "json",
        "--engine",
        request.param,
        cwd=samples_out,
    )
    assert run.code == 1, run.stderr
    data: dict[str, Any] = json.loads(run.stdout)
    return data


def artifacts(manifest: dict[str, Any], *kinds: str) -> list[dict[str, Any]]:
    return [a for a in manifest["artifacts"] if a["kind"] in kinds]


def found_in(report: dict[str, Any], path: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["path"] == path or f["path"].startswith(path + "!")]


def rows(findings: Iterable[dict[str, Any]], with_offset: bool) -> set[Row]:
    result = set()
    for f in findings:
        known = f.get("known_key") or {}
        known_id = known.get("id") if "known_key" in f and isinstance(known, dict) else None
        if "known_key_id" in f:
            known_id = f["known_key_id"]
        result.add(
            (
                f.get("display_path", f.get("path")),
                f["offset"] if with_offset else None,
                f["kind"],
                f["algorithm"],
                f["fingerprint"],
                known_id,
            )
        )
    return result


def test_every_input_is_scanned(report: dict[str, Any]) -> None:
    assert [i for i in report["inputs"] if i["status"] != "ok"] == []


def test_planted_files_yield_exactly_their_keys(
    report: dict[str, Any], manifest: dict[str, Any]
) -> None:
    for artifact in artifacts(manifest, "planted"):
        expected = rows(artifact["findings"], with_offset=True)
        assert rows(found_in(report, artifact["path"]), with_offset=True) == expected, artifact[
            "path"
        ]


@pytest.mark.parametrize("kind", ["gcore", "container"])
def test_dumps_and_containers_yield_their_keys(
    report: dict[str, Any], manifest: dict[str, Any], kind: str
) -> None:
    for artifact in artifacts(manifest, kind):
        expected = rows(artifact["findings"], with_offset=False)
        got = rows(found_in(report, artifact["path"]), with_offset=False)
        assert got == expected, artifact["path"]


def test_severities_follow_known_keys_and_encryption(report: dict[str, Any]) -> None:
    for finding in report["findings"]:
        if finding["kind"] in ("public-key", "certificate"):
            assert finding["severity"] == "info"
        elif finding["known_key"] is not None:
            assert finding["severity"] == "critical"
        elif finding["kind"] in ("encrypted-private-key", "keystore"):
            assert finding["severity"] == "medium"
        else:
            assert finding["severity"] == "high"


# Issue #4's planted encodings: the (detector, encoding) pairs a scan reports for each file.
ENCODING_DETECTORS = {
    "pem-utf16be": {("pem", "utf-16be")},
    "base64-der-pkcs8-rsa": {("base64-der", "base64")},
    "base64url-der-pkcs8-ec": {("base64-der", "base64url")},
    "jwk-rsa": {("jwk", "json")},
    "jwk-escaped-ec": {("jwk", "json-escaped")},
    "jwks-private": {("jwk", "json")},
    "dotnet-xml-rsa": {("dotnet-xml", "xml")},
    "dotnet-xml-utf16le": {("dotnet-xml", "xml-utf-16le")},
    "cng-rsa2": {("cng-rsa", "cng-blob")},
    "cng-rsa3": {("cng-rsa", "cng-blob")},
    "cng-ecc-private": {("cng-ecc", "cng-blob")},
    "capi-privatekeyblob": {("capi-rsa", "capi-blob")},
    "ppk-v2-rsa": {("ppk", "ppk2")},
    "ppk-v3-ed25519": {("ppk", "ppk3")},
    "ppk-v3-encrypted": {("ppk", "ppk3")},
    "openpgp-armored": {("openpgp", "armored")},
    "openpgp-binary-protected": {("openpgp", "binary")},
    "pkcs12-changeit": {("keystore-pkcs12", "pkcs12/default-password:changeit")},
    "jks-changeit": {("keystore-jks", "jks/default-password:changeit")},
}


def test_every_encoding_is_found_by_its_detector(report: dict[str, Any]) -> None:
    for name, expected in ENCODING_DETECTORS.items():
        for path in (f"planted/{name}.bin", f"containers/encodings.tar.zst!{name}.bin"):
            found = {(f["detector"], f["encoding"]) for f in found_in(report, path)}
            assert found == expected, path


def test_encodings_core_keys_are_found_by_their_planted_detectors(
    report: dict[str, Any],
) -> None:
    """Each encoding has its own key, so the detector that finds a key in its planted file
    must find it in the process too (a JWK the holder parsed is also there unescaped)."""
    core = found_in(report, "dumps/python-encodings.core")
    for name in ENCODING_DETECTORS:
        for planted in found_in(report, f"planted/{name}.bin"):
            same_key = [
                f
                for f in core
                if (f["kind"], f["fingerprint"]) == (planted["kind"], planted["fingerprint"])
            ]
            assert planted["detector"] in {f["detector"] for f in same_key}, name
            assert {f["severity"] for f in same_key} == {planted["severity"]}, name


def test_key_in_a_process_dump_is_located(report: dict[str, Any]) -> None:
    pem = [f for f in found_in(report, "dumps/python-pem.core") if f["detector"] == "pem"]
    (first, *_) = pem
    assert first["format"] == "elf-core"
    assert first["address"] is not None
    assert first["module"] is None  # heap memory, not a mapped file
    assert first["detector"] == "pem"


def test_utf16_dump_key_is_found_as_utf16(report: dict[str, Any]) -> None:
    encodings = {f["encoding"] for f in found_in(report, "dumps/python-utf16.core")}
    assert encodings == {"utf-16le"}


def test_clean_processes_give_nothing_at_low_or_above(samples_out: Path) -> None:
    run = dumpguard(
        "scan",
        "dumps/sleep.core",
        "dumps/python-clean.core",
        "--fail-on",
        "low",
        "--format",
        "json",
        cwd=samples_out,
    )
    assert run.code == 0, run.stdout
    assert json.loads(run.stdout)["summary"]["low"] == 0


def test_engines_agree(samples_out: Path) -> None:
    def findings(engine: str) -> list[tuple[Any, ...]]:
        run = dumpguard("scan", ".", "--format", "json", "--engine", engine, cwd=samples_out)
        return sorted(
            # A keystore and the key inside it share path, offset and detector; a keystore
            # has no fingerprint (null), which does not sort against a string.
            (f["path"], f["offset"], f["detector"], f["kind"], f["fingerprint"] or "")
            for f in json.loads(run.stdout)["findings"]
        )

    assert findings("yara-x") == findings("yara-python")


def test_stdin_is_scanned(samples_out: Path) -> None:
    data = (samples_out / "planted" / "der-pkcs1-rsa.bin").read_bytes()
    run = dumpguard("scan", "-", "--format", "json", stdin=data)
    assert run.code == 1
    (finding,) = json.loads(run.stdout)["findings"]
    assert (finding["path"], finding["detector"]) == ("-", "der-pkcs1")


def test_fail_on_threshold_and_never(samples_out: Path) -> None:
    planted = samples_out / "planted" / "pem-pkcs8-encrypted.bin"
    assert dumpguard("scan", planted, "--fail-on", "medium").code == 1
    assert dumpguard("scan", planted, "--fail-on", "high").code == 0
    assert dumpguard("scan", planted, "--fail-on", "never").code == 0


def test_unscannable_input_fails_closed_and_the_rest_goes_on(
    samples_out: Path, tmp_path: Path
) -> None:
    core = (samples_out / "dumps" / "sleep.core").read_bytes()
    cut = tmp_path / "cut.core.gz"
    cut.write_bytes(
        subprocess.run(["gzip", "-c"], input=core, capture_output=True, check=True).stdout[:5000]
    )
    clean = samples_out / "dumps" / "sleep.core"
    run = dumpguard("scan", cut, clean, "--format", "json")
    assert run.code == 2
    inputs = {Path(i["path"]).name: i for i in json.loads(run.stdout)["inputs"]}
    assert inputs["sleep.core"]["status"] == "ok"
    assert inputs["cut.core.gz"]["status"] == "error"
    assert "cut.core.gz" in inputs["cut.core.gz"]["error"]


def test_inspect_shows_process_and_regions(samples_out: Path) -> None:
    run = dumpguard("inspect", "dumps/python-pem.core", "--format", "json", cwd=samples_out)
    assert run.code == 0, run.stderr
    (view,) = json.loads(run.stdout)["inputs"]
    assert view["format"] == "elf-core"
    assert view["pid"] > 0
    assert view["process_name"].startswith("python")
    assert any(r["permissions"] == "rw-" and r["name"] is None for r in view["regions"])
    assert any(r["name"] and "libc" in r["name"] for r in view["regions"])


def test_output_file_is_written_atomically(samples_out: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("previous report\n")
    missing_dir = tmp_path / "nowhere" / "report.json"
    planted = samples_out / "planted" / "pem-crlf.bin"
    failed = dumpguard("scan", planted, "--format", "json", "--output", missing_dir)
    assert failed.code == 2
    assert "nowhere" in failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1
    assert target.read_text() == "previous report\n"
    assert dumpguard("scan", planted, "--format", "json", "--output", target).code == 1
    assert json.loads(target.read_text())["version"] == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_openssl_header_strings_are_not_keys(samples_out: Path) -> None:
    run = dumpguard(
        "scan", "planted/rodata-false-positive.bin", "--fail-on", "info", cwd=samples_out
    )
    assert run.code == 0


def test_user_rules_are_added(samples_out: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "mine.yar").write_text(
        'rule my_pem_anchor { meta: parser = "pem" strings: $a = "-----BEGIN PRIVATE" '
        "condition: $a }\n"
    )
    planted = samples_out / "planted" / "pem-pkcs8-rsa.bin"
    run = dumpguard("scan", planted, "--rules", rules, "--format", "json")
    assert run.code == 1
    assert len(json.loads(run.stdout)["findings"]) == 1  # same key, same place: one finding
    (rules / "bad.yar").write_text("rule broken { condition: }\n")
    bad = dumpguard("scan", planted, "--rules", rules)
    assert bad.code == 2
    assert "bad.yar" in bad.stderr


def test_report_contract_fields(report: dict[str, Any]) -> None:
    assert set(report) == {"version", "tool", "inputs", "findings", "summary"}
    assert report["tool"]["name"] == "dumpguard"
    finding_fields = {
        "path",
        "format",
        "offset",
        "address",
        "region",
        "detector",
        "module",
        "encoding",
        "kind",
        "algorithm",
        "bits",
        "curve",
        "fingerprint",
        "known_key",
        "severity",
    }
    for finding in report["findings"]:
        assert finding_fields <= set(finding)
    for entry in report["inputs"]:
        assert {"path", "format", "size", "status", "error"} <= set(entry)


def test_gdb_is_there_for_the_dumps() -> None:
    assert shutil.which("gcore")
