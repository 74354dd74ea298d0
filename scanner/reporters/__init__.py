"""Reporters, registered explicitly by output format; writing to a file is atomic."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

from scanner.config import OutputFormat
from scanner.errors import ReportError
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
    """Print to stdout, or write `output` atomically (temp file beside it, fsync, rename)."""
    reporter = REPORTERS[output_format]
    if output is None:
        reporter.write(report, sys.stdout)
        sys.stdout.flush()
        return
    directory = output.parent if str(output.parent) else Path(".")
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{output.name}.", dir=directory)
    except OSError as error:
        raise ReportError(f"{output}: cannot write report: {error.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            reporter.write(report, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, output)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise ReportError(f"{output}: cannot write report: {error.strerror}") from None


__all__ = ["REPORTERS", "Reporter", "write_report"]
