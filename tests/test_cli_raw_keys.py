"""End to end: keys that exist only as raw numbers in real processes (issue 3).

openssl s_server (RSA and EC), a Python process that dropped its PEM, and a
JVM that loaded its key through KeyFactory hold no PEM and no DER of their
keys (samples/make_samples.py checks that); given the public keys, the scan
must recover each key as a critical finding matched to its known key, and
report nothing else at medium or above.  openssl's own test keys (inside its
binary's mapping) are low, and public keys and certificates info.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.clirun import dumpguard

pytestmark = pytest.mark.slow

SERIOUS = {"medium", "high", "critical"}


def raw_artifacts(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    found = [a for a in manifest["artifacts"] if a["kind"] == "gcore-raw"]
    assert found, "the samples hold no gcore-raw dumps"
    return found


@pytest.fixture(scope="module")
def raw_report(samples_out: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    paths = [a["path"] for a in raw_artifacts(manifest)]
    run = dumpguard(
        "scan",
        *paths,
        "--known-keys",
        manifest["known_keys_raw_dir"],
        "--format",
        "json",
        cwd=samples_out,
        timeout=600,
    )
    assert run.code in (0, 1), run.stderr
    report: dict[str, Any] = json.loads(run.stdout)
    assert all(i["status"] == "ok" for i in report["inputs"]), report["inputs"]
    return report


def serious(report: dict[str, Any], path: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["path"] == path and f["severity"] in SERIOUS]


def test_each_raw_key_is_recovered_and_matched(
    raw_report: dict[str, Any], manifest: dict[str, Any]
) -> None:
    for artifact in raw_artifacts(manifest):
        got = {
            (f["kind"], f["algorithm"], f["fingerprint"], f["known_key"]["id"], f["severity"])
            for f in serious(raw_report, artifact["path"])
        }
        expected = {
            (e["kind"], e["algorithm"], e["fingerprint"], e["known_key_id"], "critical")
            for e in artifact["findings"]
        }
        assert got == expected, artifact["path"]


def test_recovered_findings_name_their_layout(
    raw_report: dict[str, Any], manifest: dict[str, Any]
) -> None:
    for artifact in raw_artifacts(manifest):
        findings = serious(raw_report, artifact["path"])
        rsa_layouts = {f["encoding"] for f in findings if f["detector"] == "rsa-factor"}
        recorded = {r["layout"] for r in artifact["raw_layouts"] if r["component"] in "pq"}
        assert rsa_layouts <= recorded, artifact["path"]
        if recorded:
            assert rsa_layouts, artifact["path"]
        for finding in findings:
            assert finding["detector"] in {"rsa-factor", "ec-scalar", "ecx-seed", "pem"}
            assert finding["address"] is not None
            assert finding["module"] is None  # heap memory, not a mapped file


def test_rsa_factors_are_reported_where_they_lie(
    raw_report: dict[str, Any], manifest: dict[str, Any]
) -> None:
    for artifact in raw_artifacts(manifest):
        recorded = {
            (r["offset"], r["layout"]) for r in artifact["raw_layouts"] if r["component"] in "pq"
        }
        for finding in serious(raw_report, artifact["path"]):
            if finding["detector"] == "rsa-factor":
                # The manifest records minimal patterns (no leading zero limbs).
                assert any(
                    layout == finding["encoding"]
                    and finding["offset"] <= offset < finding["offset"] + finding["length"]
                    for offset, layout in recorded
                ), artifact["path"]


def test_without_known_keys_nothing_serious(samples_out: Path, manifest: dict[str, Any]) -> None:
    paths = [a["path"] for a in raw_artifacts(manifest)]
    run = dumpguard("scan", *paths, "--format", "json", cwd=samples_out, timeout=600)
    assert run.code == 0, run.stdout[-2000:]
    report = json.loads(run.stdout)
    assert [f for f in report["findings"] if f["severity"] in SERIOUS] == []
