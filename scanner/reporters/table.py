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
    if finding.curve:
        name = f"{finding.algorithm} {finding.curve}"
    elif finding.algorithm in ("RSA", "DSA") and finding.bits:
        name = f"{finding.algorithm}-{finding.bits}"
    else:
        name = finding.algorithm or "unknown algorithm"
    text = f"{name} {finding.kind.value}"
    if finding.known_key:
        text += f"\nknown key {finding.known_key.id}"
    return text


def _where(finding: Finding) -> str:
    where = f"offset 0x{finding.offset:x}"
    if finding.address is not None:
        where += f"\naddr 0x{finding.address:x}\n{finding.region or 'anonymous'}"
    return where


class TableReporter(Reporter):
    format = OutputFormat.TABLE

    def write(self, report: Report, stream: TextIO) -> None:
        # rich costs ~40 ms to import: only the table needs it, so not every scan pays.
        from rich.console import Console  # noqa: PLC0415

        # A terminal gets its own width; a pipe or file gets room for whole fingerprints.
        width = None if stream.isatty() else 220
        console = Console(file=stream, width=width, soft_wrap=False, highlight=False)
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
        table.add_column("severity")
        table.add_column("input", overflow="fold", max_width=40)
        table.add_column("where", overflow="fold", max_width=24)
        table.add_column("key", overflow="fold", max_width=32)
        table.add_column("found as", overflow="fold", max_width=18)
        table.add_column("fingerprint", overflow="fold", min_width=71)
        for finding in findings:
            table.add_row(
                f"[{SEVERITY_STYLE[finding.severity]}]{finding.severity.value}[/]",
                finding.path,
                _where(finding),
                _key_description(finding),
                f"{finding.detector}\n{finding.encoding}",
                finding.fingerprint or "-",
            )
        return table
