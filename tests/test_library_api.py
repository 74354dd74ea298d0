"""`from scanner import scan, ScanConfig`: the same Report the CLI prints."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import scanner
from scanner import FailOn, GateDecision, InputStatus, ScanConfig, gate, scan
from scanner.reporters.base import report_record
from tests.clirun import dumpguard


def test_library_scan_gives_the_report_the_cli_prints(samples_out: Path) -> None:
    core = samples_out / "dumps" / "python-pem.core"
    known = samples_out / "known-keys"
    report = scan(ScanConfig(paths=(str(core),), known_keys=(known,)))
    printed = json.loads(dumpguard("scan", core, "--known-keys", known, "--format", "json").stdout)
    assert report_record(report)["findings"] == printed["findings"]
    assert gate(report, FailOn.HIGH) is GateDecision.FINDINGS
    assert {f.severity.value for f in report.findings} == {"critical"}


def test_library_reports_unscannable_input_as_data(tmp_path: Path) -> None:
    cut = tmp_path / "cut.core"
    cut.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x04\x00")  # an ELF core header, cut
    clean = tmp_path / "clean.bin"
    clean.write_bytes(bytes(4096))
    report = scan(ScanConfig(paths=(str(cut), str(clean))))
    statuses = {Path(r.path).name: r.status for r in report.inputs}
    assert statuses == {"cut.core": InputStatus.ERROR, "clean.bin": InputStatus.OK}
    assert gate(report, FailOn.HIGH) is GateDecision.INCOMPLETE


def test_import_scanner_stays_cheap() -> None:
    """`import scanner` must not pull in the pipeline (worker processes import it)."""
    code = "import sys, scanner; print('scanner.pipeline' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    assert result.stdout.strip() == b"False"
    assert set(scanner.__all__) >= {"scan", "ScanConfig", "Report", "gate", "FailOn"}
