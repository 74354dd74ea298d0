"""A human table (rich): findings by input and severity, then inputs that could not be scanned."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from scanner.config import OutputFormat, Severity
from scanner.findings import Finding
from scanner.report import InputResult, InputStatus, Report
from scanner.reporters.base import Reporter, finding_sentence

if TYPE_CHECKING:
    from rich.table import Table

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def _where(finding: Finding) -> str:
    where = f"offset 0x{finding.offset:x}"
    if finding.address is not None:
        where += f"\naddr 0x{finding.address:x}\n{finding.module or finding.region or 'anonymous'}"
    return where


def _input_heading(result: InputResult | None, path: str, findings: list[Finding]) -> str:
    """ "core.1234 (elf-core, process nginx, pid 1234): 2 critical, 1 high"."""
    facts = []
    if result is not None and result.format:
        facts.append(result.format)
    if result is not None and result.process:
        facts.append(f"process {result.process}")
    if result is not None and result.pid is not None:
        facts.append(f"pid {result.pid}")
    counts: dict[str, int] = {}
    for finding in findings:
        label = "suppressed" if finding.suppressed else finding.severity.value
        counts[label] = counts.get(label, 0) + 1
    tally = ", ".join(f"{count} {label}" for label, count in counts.items())
    return f"[bold]{path}[/]" + (f" ({', '.join(facts)})" if facts else "") + f": {tally}"


class TableReporter(Reporter):
    """Findings grouped by input (most severe input first), then by severity."""

    format = OutputFormat.TABLE

    def write(self, report: Report, stream: TextIO) -> None:
        # rich costs ~40 ms to import: only the table needs it, so not every scan pays.
        from rich.console import Console  # noqa: PLC0415

        # A terminal gets its own width; a pipe or file gets room for whole fingerprints.
        width = None if stream.isatty() else 220
        console = Console(file=stream, width=width, soft_wrap=False, highlight=False)
        results = {result.path: result for result in report.inputs}
        for path, findings in _grouped(report.findings):
            console.print(_input_heading(results.get(path), path, findings))
            console.print(self._findings_table(findings))
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
        table.add_column("where", overflow="fold", max_width=26)
        table.add_column("what was found and why it matters", overflow="fold", ratio=1)
        table.add_column("fingerprint", overflow="fold", min_width=71)
        for finding in findings:
            table.add_row(
                _severity_cell(finding),
                _where(finding),
                finding_sentence(finding),
                finding.fingerprint or "-",
            )
        return table


def _severity_cell(finding: Finding) -> str:
    if finding.suppressed:
        return f"[dim]{finding.severity.value}\nsuppressed[/]"
    return f"[{SEVERITY_STYLE[finding.severity]}]{finding.severity.value}[/]"


def _grouped(findings: tuple[Finding, ...]) -> list[tuple[str, list[Finding]]]:
    by_input: dict[str, list[Finding]] = {}
    for finding in findings:
        by_input.setdefault(finding.path, []).append(finding)
    for group in by_input.values():
        group.sort(key=lambda f: (f.suppressed, -f.severity.rank, f.offset))
    return sorted(
        by_input.items(),
        key=lambda item: (item[1][0].suppressed, -item[1][0].severity.rank, item[0]),
    )
