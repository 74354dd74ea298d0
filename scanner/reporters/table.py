"""A human table (rich): findings by severity, then inputs that could not be scanned."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from scanner.config import OutputFormat, Severity
from scanner.findings import Finding
from scanner.report import InputStatus, Report
from scanner.reporters.base import Reporter

if TYPE_CHECKING:
    from rich.table import Table

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def _key_description(finding: Finding) -> str:
    size = f"-{finding.bits}" if finding.bits else ""
    curve = f" {finding.curve}" if finding.curve else ""
    algorithm = finding.algorithm or "unknown algorithm"
    return f"{algorithm}{size}{curve} {finding.kind.value}"


def _where(finding: Finding) -> str:
    address = f"0x{finding.address:x}" if finding.address is not None else "-"
    if finding.address is None:
        return f"offset 0x{finding.offset:x}"
    return f"offset 0x{finding.offset:x}\naddr {address}\n{finding.region or 'anonymous'}"


class TableReporter(Reporter):
    format = OutputFormat.TABLE

    def write(self, report: Report, stream: TextIO) -> None:
        # rich costs ~40 ms to import: only the table needs it, so not every scan pays.
        from rich.console import Console  # noqa: PLC0415

        console = Console(file=stream, width=160, soft_wrap=False, highlight=False)
        ordered = sorted(report.findings, key=lambda f: (-f.severity.rank, f.path, f.offset))
        if ordered:
            console.print(self._findings_table(ordered))
        errors = [r for r in report.inputs if r.status is InputStatus.ERROR]
        for result in errors:
            console.print(f"[bold red]not scanned[/]: {result.error or result.path}")
        counts = ", ".join(f"{count} {name}" for name, count in report.summary().items() if count)
        scanned = len(report.inputs) - len(errors)
        console.print(
            f"{scanned} of {len(report.inputs)} inputs scanned; "
            f"{len(report.findings)} findings{': ' + counts if counts else ''}"
        )

    def _findings_table(self, findings: list[Finding]) -> Table:
        from rich.table import Table  # noqa: PLC0415

        table = Table(show_lines=True)
        for column in ("severity", "input", "where", "key", "detector", "fingerprint", "known"):
            table.add_column(column, overflow="fold")
        for finding in findings:
            known = finding.known_key
            table.add_row(
                f"[{SEVERITY_STYLE[finding.severity]}]{finding.severity.value}[/]",
                finding.path,
                _where(finding),
                _key_description(finding),
                f"{finding.detector} ({finding.encoding})",
                finding.fingerprint or "-",
                f"{known.id} ({known.source})" if known else "-",
            )
        return table
