"""Reporters, registered explicitly by output format; writing to a file is atomic."""

from __future__ import annotations

import sys
from pathlib import Path

from scanner.atomic import atomic_text
from scanner.config import OutputFormat
from scanner.report import Report
from scanner.reporters.base import Reporter
from scanner.reporters.json import JsonReporter
from scanner.reporters.jsonl import JsonLinesReporter
from scanner.reporters.sarif import SarifReporter
from scanner.reporters.table import TableReporter

REPORTERS: dict[OutputFormat, Reporter] = {
    OutputFormat.TABLE: TableReporter(),
    OutputFormat.JSON: JsonReporter(),
    OutputFormat.JSONL: JsonLinesReporter(),
    OutputFormat.SARIF: SarifReporter(),
}


def write_report(report: Report, output_format: OutputFormat, output: Path | None) -> None:
    """Print to stdout, or write `output` atomically (see scanner.atomic)."""
    reporter = REPORTERS[output_format]
    if output is None:
        reporter.write(report, sys.stdout)
        sys.stdout.flush()
        return
    with atomic_text(output, "report") as stream:
        reporter.write(report, stream)
