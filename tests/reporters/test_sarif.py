"""SARIF output: valid against the official 2.1.0 schema, and what code scanning reads.

The dumps are the real gcore samples (samples/make_samples.py) and the planted
files; the schema is ../shared/schemas/sarif-schema-2.1.0.json, read with
`jsonschema` (the test skips where ../shared is absent).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from scanner.detectors import PARSERS
from tests.clirun import dumpguard
from tests.conftest import SARIF_SCHEMA


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    if not SARIF_SCHEMA.is_file():
        pytest.skip("../shared/schemas is not here (it is only in the project's CI and sessions)")
    loaded: dict[str, Any] = json.loads(SARIF_SCHEMA.read_text())
    return loaded


def sarif_of(*args: str | Path, cwd: Path | None = None) -> tuple[int, dict[str, Any]]:
    run = dumpguard("scan", *args, "--format", "sarif", cwd=cwd)
    assert run.code in (0, 1, 2), run.stderr
    log: dict[str, Any] = json.loads(run.stdout)
    return run.code, log


@pytest.fixture(scope="module")
def broken_core(samples_out: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ELF core cut inside its program headers (kept out of the shared samples)."""
    broken = tmp_path_factory.mktemp("sarif") / "broken.core"
    broken.write_bytes((samples_out / "dumps" / "python-pem.core").read_bytes()[:3000])
    return broken


@pytest.fixture(scope="module")
def dumps_log(samples_out: Path, broken_core: Path) -> tuple[int, dict[str, Any]]:
    """Relative paths, run from the samples directory, and a corrupt input given absolute."""
    return sarif_of(
        "dumps",
        "dumps-raw",
        "planted/pem-utf16le.bin",
        broken_core,
        "--known-keys",
        "known-keys",
        "--known-keys",
        "known-keys-raw",
        cwd=samples_out,
    )


def test_sarif_validates_against_the_official_schema(
    dumps_log: tuple[int, dict[str, Any]], schema: dict[str, Any]
) -> None:
    jsonschema.validate(dumps_log[1], schema)


def test_one_rule_per_detector_and_results_point_at_them(
    dumps_log: tuple[int, dict[str, Any]],
) -> None:
    run = dumps_log[1]["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    rule_ids = [rule["id"] for rule in rules]
    assert len(rule_ids) == len(set(rule_ids))
    assert set(PARSERS) | {"rsa-factor", "ec-scalar", "ecx-seed"} <= set(rule_ids)
    for rule in rules:
        assert rule["shortDescription"]["text"]
        assert "security" in rule["properties"]["tags"]
    detectors = {result["ruleId"] for result in run["results"]}
    assert {"pem", "rsa-factor"} <= detectors
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_critical_findings_are_errors_with_known_key_and_address(
    dumps_log: tuple[int, dict[str, Any]],
) -> None:
    results = dumps_log[1]["runs"][0]["results"]
    critical = [r for r in results if r["properties"]["severity"] == "critical"]
    assert critical
    for result in critical:
        assert result["level"] == "error"
        assert result["properties"]["knownKey"]["id"]
        assert result["properties"]["knownKey"]["id"] in result["message"]["text"]
        fingerprint = result["properties"]["fingerprint"]
        assert result["partialFingerprints"]["keyFingerprint/v1"] == fingerprint
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "SRCROOT"
        assert location["artifactLocation"]["uri"].startswith("dumps")
        assert location["region"]["byteLength"] > 0
        assert location["region"]["startLine"] == 1  # GitHub code scanning requires it
        # Process dumps: the virtual address and the region are in the location.
        assert location["address"]["absoluteAddress"] > 0
        assert location["address"]["name"]


def test_python_pem_core_result_is_where_the_json_report_says(samples_out: Path) -> None:
    """SARIF and JSON describe the same finding at the same offset and address."""
    core = samples_out / "dumps" / "python-pem.core"
    known = samples_out / "known-keys"
    json_report = json.loads(
        dumpguard("scan", core, "--known-keys", known, "--format", "json").stdout
    )
    code, log = sarif_of(core, "--known-keys", known)
    assert code == 1
    # The PEM text, and (with the known key) its numbers in OpenSSL's BIGNUMs.
    expected = {
        (f["detector"], f["offset"], f["length"], f["address"], f["fingerprint"])
        for f in json_report["findings"]
    }
    seen = set()
    for result in log["runs"][0]["results"]:
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "file://" + str(core)
        assert result["level"] == "error"
        seen.add(
            (
                result["ruleId"],
                location["region"]["byteOffset"],
                location["region"]["byteLength"],
                location["address"]["absoluteAddress"],
                result["properties"]["fingerprint"],
            )
        )
    assert seen == expected
    assert len(expected) > 1
    assert {"pem", "rsa-factor"} <= {detector for detector, *_ in seen}


def test_unscanned_input_is_a_tool_execution_notification(
    dumps_log: tuple[int, dict[str, Any]], broken_core: Path
) -> None:
    code, log = dumps_log
    assert code == 1  # findings decide the exit code; the cut core alone would give 2
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    (notice,) = invocation["toolExecutionNotifications"]
    assert notice["level"] == "error"
    assert "broken.core" in notice["message"]["text"]
    uri = notice["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "file://" + str(broken_core)


def test_clean_dump_gives_an_empty_successful_run(
    samples_out: Path, schema: dict[str, Any]
) -> None:
    code, log = sarif_of(samples_out / "dumps" / "sleep.core")
    jsonschema.validate(log, schema)
    run = log["runs"][0]
    assert code == 0
    assert run["results"] == []
    assert run["invocations"][0]["executionSuccessful"] is True
    assert run["artifacts"][0]["properties"]["format"] == "elf-core"


def test_archive_member_points_at_the_archive_on_disk(samples_out: Path) -> None:
    containers = sorted((samples_out / "containers").iterdir())
    archive = next(p for p in containers if p.name.endswith(".tar.gz"))
    _, log = sarif_of(archive)
    results = log["runs"][0]["results"]
    assert results
    for result in results:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri == "file://" + str(archive)
        assert result["properties"]["path"].startswith(str(archive) + "!")
