"""The finished report and the gate decision (the CLI maps decisions to exit codes)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from scanner import __version__
from scanner.config import FailOn, Severity
from scanner.findings import Finding


class InputStatus(enum.Enum):
    OK = "ok"
    ERROR = "error"


@dataclass(frozen=True)
class InputResult:
    """One scanned input (a file, or a member of a container).

    containers: the container layers it was unpacked from, outermost first.
    error: why it could not be (wholly) scanned; None when status is ok.
    process, pid: the dumped process, where the format records it (ELF cores,
    minidumps).
    """

    path: str
    format: str | None
    size: int | None
    status: InputStatus
    error: str | None = None
    containers: tuple[str, ...] = ()
    process: str | None = None
    pid: int | None = None


@dataclass(frozen=True)
class Report:
    inputs: tuple[InputResult, ...]
    findings: tuple[Finding, ...]
    tool_name: str = "dumpguard"
    tool_version: str = __version__

    def summary(self) -> dict[str, int]:
        """Findings per severity; those a baseline suppresses are counted apart."""
        counts = {severity.value: 0 for severity in Severity}
        counts["suppressed"] = 0
        for finding in self.findings:
            counts["suppressed" if finding.suppressed else finding.severity.value] += 1
        return counts

    @property
    def complete(self) -> bool:
        return all(result.status is InputStatus.OK for result in self.inputs)


class GateDecision(enum.Enum):
    CLEAN = "clean"  # every input scanned, nothing at or above the threshold
    FINDINGS = "findings"  # a finding at or above the threshold
    INCOMPLETE = "incomplete"  # nothing above the threshold, but an input was not scanned


def gate(report: Report, fail_on: FailOn) -> GateDecision:
    """Fail closed: an input that could not be scanned never passes.  Findings a
    baseline suppresses do not count; expired entries suppress nothing."""
    threshold = fail_on.severity
    if threshold is not None and any(
        finding.severity.rank >= threshold.rank and not finding.suppressed
        for finding in report.findings
    ):
        return GateDecision.FINDINGS
    if not report.complete or not report.inputs:
        return GateDecision.INCOMPLETE
    return GateDecision.CLEAN
