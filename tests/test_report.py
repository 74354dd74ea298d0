"""The gate: findings at or above the threshold fail, unscanned inputs fail closed."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from scanner.cli import EXIT_ERROR, EXIT_FINDINGS, EXIT_PASS, exit_code, parse_size
from scanner.config import FailOn, Severity
from scanner.findings import Finding, Suppression
from scanner.keys.base import KeyKind
from scanner.report import GateDecision, InputResult, InputStatus, Report, gate

OK = InputResult("a.core", "elf-core", 10, InputStatus.OK)
BROKEN = InputResult("b.core", "elf-core", 10, InputStatus.ERROR, "b.core: truncated")


def finding(severity: Severity) -> Finding:
    return Finding(
        "a.core",
        "elf-core",
        0,
        10,
        None,
        None,
        "pem",
        None,
        "ascii",
        KeyKind.PRIVATE,
        "RSA",
        2048,
        None,
        "sha256:00",
        None,
        severity,
    )


@pytest.mark.parametrize("fail_on", list(FailOn))
@pytest.mark.parametrize("severity", list(Severity))
def test_threshold(fail_on: FailOn, severity: Severity) -> None:
    report = Report((OK,), (finding(severity),))
    threshold = fail_on.severity
    fails = threshold is not None and severity.rank >= threshold.rank
    assert gate(report, fail_on) is (GateDecision.FINDINGS if fails else GateDecision.CLEAN)


def test_unscanned_input_fails_closed_even_with_no_findings() -> None:
    assert gate(Report((OK, BROKEN), ()), FailOn.HIGH) is GateDecision.INCOMPLETE
    assert gate(Report((OK, BROKEN), ()), FailOn.NEVER) is GateDecision.INCOMPLETE


def test_no_inputs_at_all_is_not_clean() -> None:
    assert gate(Report((), ()), FailOn.HIGH) is GateDecision.INCOMPLETE


def test_findings_outrank_unscanned_inputs() -> None:
    report = Report((OK, BROKEN), (finding(Severity.HIGH),))
    assert gate(report, FailOn.HIGH) is GateDecision.FINDINGS


def test_every_gate_decision_maps_to_its_exit_code() -> None:
    codes = {decision: exit_code(decision) for decision in GateDecision}
    assert codes == {
        GateDecision.CLEAN: EXIT_PASS,
        GateDecision.FINDINGS: EXIT_FINDINGS,
        GateDecision.INCOMPLETE: EXIT_ERROR,
    }


def test_severity_ranks_are_strictly_ordered() -> None:
    order = [Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]
    assert [s.rank for s in order] == sorted({s.rank for s in Severity})
    assert {f.severity for f in FailOn} == {*Severity, None}


def test_summary_counts_every_severity() -> None:
    report = Report((OK,), (finding(Severity.HIGH), finding(Severity.HIGH), finding(Severity.INFO)))
    assert report.summary() == {
        "info": 1,
        "low": 0,
        "medium": 0,
        "high": 2,
        "critical": 0,
        "suppressed": 0,
    }


def test_suppressed_findings_are_counted_apart_and_do_not_gate() -> None:
    accepted = Suppression("test key", None, active=True)
    lapsed = Suppression("test key", datetime.date(2020, 1, 1), active=False)
    suppressed = dataclasses.replace(finding(Severity.CRITICAL), suppression=accepted)
    report = Report((OK,), (suppressed, finding(Severity.INFO)))
    assert report.summary()["suppressed"] == 1
    assert report.summary()["critical"] == 0
    assert gate(report, FailOn.LOW) is GateDecision.CLEAN
    expired = dataclasses.replace(finding(Severity.CRITICAL), suppression=lapsed)
    assert gate(Report((OK,), (expired,)), FailOn.HIGH) is GateDecision.FINDINGS


@pytest.mark.parametrize(
    ("text", "size"), [("1000", 1000), ("10MiB", 10 << 20), ("64G", 64 << 30), ("2kb", 2048)]
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size
