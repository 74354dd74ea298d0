"""Baselines: accepted test keys stay in the report, marked suppressed, out of the gate;
expired entries stop suppressing and say so; the file holds fingerprints only."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.clirun import dumpguard
from tests.conftest import SARIF_SCHEMA


def rewrite_expiry(baseline: Path, expires: datetime.date) -> None:
    document = json.loads(baseline.read_text())
    for entry in document["entries"]:
        entry["expires"] = expires.isoformat()
    baseline.write_text(json.dumps(document))


@pytest.fixture
def accepted(samples_out: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A baseline accepting the PKCS#1 test key; the dump also holds nothing else."""
    planted = samples_out / "planted" / "pem-pkcs1-rsa.bin"
    baseline = tmp_path / "baseline.json"
    created = dumpguard(
        "baseline",
        "create",
        planted,
        "-o",
        baseline,
        "--reason",
        "sample test key",
        "--expires",
        "2099-12-31",
    )
    assert created.code == 0, created.stderr
    assert "1 fingerprint written" in created.stdout
    return planted, baseline


def test_baseline_suppresses_and_keeps_the_finding(accepted: tuple[Path, Path]) -> None:
    planted, baseline = accepted
    without = dumpguard("scan", planted, "--format", "json")
    assert without.code == 1
    run = dumpguard("scan", planted, "--baseline", baseline, "--format", "json")
    assert run.code == 0, run.stderr  # accepted: the gate passes
    report = json.loads(run.stdout)
    (finding,) = report["findings"]
    (original,) = json.loads(without.stdout)["findings"]
    assert finding["fingerprint"] == original["fingerprint"]
    assert finding["suppressed"] is True
    assert finding["suppression"] == {
        "reason": "sample test key",
        "expires": "2099-12-31",
        "expired": False,
    }
    assert report["summary"]["suppressed"] == 1
    assert report["summary"]["high"] == 0


def test_baseline_does_not_hide_other_keys(accepted: tuple[Path, Path], samples_out: Path) -> None:
    _, baseline = accepted
    other = samples_out / "planted" / "der-pkcs1-rsa.bin"
    run = dumpguard("scan", other, "--baseline", baseline, "--format", "json")
    assert run.code == 1
    assert [f["suppressed"] for f in json.loads(run.stdout)["findings"]] == [False]


def test_expired_entry_stops_suppressing_and_says_so(accepted: tuple[Path, Path]) -> None:
    planted, baseline = accepted
    yesterday = datetime.datetime.now(datetime.UTC).date() - datetime.timedelta(days=1)
    rewrite_expiry(baseline, yesterday)
    run = dumpguard("scan", planted, "--baseline", baseline, "--format", "json")
    assert run.code == 1
    (finding,) = json.loads(run.stdout)["findings"]
    assert finding["suppressed"] is False
    assert finding["suppression"]["expired"] is True
    assert f"expired on {yesterday.isoformat()}" in run.stderr
    assert finding["fingerprint"] in run.stderr


def test_entry_expiring_today_still_applies(accepted: tuple[Path, Path]) -> None:
    planted, baseline = accepted
    rewrite_expiry(baseline, datetime.datetime.now(datetime.UTC).date())
    assert dumpguard("scan", planted, "--baseline", baseline).code == 0


def test_baseline_holds_fingerprints_never_key_material(
    accepted: tuple[Path, Path], samples_out: Path
) -> None:
    planted, baseline = accepted
    document = json.loads(baseline.read_text())
    assert set(document["entries"][0]) == {
        "fingerprint",
        "reason",
        "expires",
        "created",
        "algorithm",
        "bits",
    }
    text = baseline.read_text()
    pem = planted.read_bytes()
    body = [line for line in pem.splitlines() if len(line) == 64 and b"-" not in line]
    assert body  # the planted PEM's base64 lines
    for line in body:
        assert line.decode() not in text


def test_suppressed_result_in_sarif(accepted: tuple[Path, Path]) -> None:
    planted, baseline = accepted
    run = dumpguard("scan", planted, "--baseline", baseline, "--format", "sarif")
    log: dict[str, Any] = json.loads(run.stdout)
    (result,) = log["runs"][0]["results"]
    assert result["suppressions"] == [
        {"kind": "external", "status": "accepted", "justification": "sample test key"}
    ]
    if SARIF_SCHEMA.is_file():
        jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text()))


def test_bad_baseline_is_a_one_line_configuration_error(tmp_path: Path, samples_out: Path) -> None:
    planted = samples_out / "planted" / "pem-pkcs1-rsa.bin"
    cases = {
        "notjson.json": "{",
        "noreason.json": json.dumps(
            {"version": 1, "entries": [{"fingerprint": "sha256:" + "0" * 64}]}
        ),
        "badfp.json": json.dumps({"version": 1, "entries": [{"fingerprint": "x", "reason": "r"}]}),
        "baddate.json": json.dumps(
            {
                "version": 1,
                "entries": [
                    {"fingerprint": "sha256:" + "0" * 64, "reason": "r", "expires": "tomorrow"}
                ],
            }
        ),
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        run = dumpguard("scan", planted, "--baseline", path)
        assert run.code == 2, name
        assert str(path) in run.stderr
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_create_refuses_to_overwrite_and_refuses_unscannable_input(
    accepted: tuple[Path, Path], tmp_path: Path
) -> None:
    planted, baseline = accepted
    before = baseline.read_bytes()
    again = dumpguard("baseline", "create", planted, "-o", baseline, "--reason", "r")
    assert again.code == 2
    assert baseline.read_bytes() == before
    cut = tmp_path / "cut.core"
    cut.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x04\x00")
    fresh = tmp_path / "fresh.json"
    refused = dumpguard("baseline", "create", planted, cut, "-o", fresh, "--reason", "r")
    assert refused.code == 2
    assert not fresh.exists()
    assert not list(tmp_path.glob(".fresh.json*"))  # no temporary file left behind
