"""JSON: the whole report as one object (the report contract, version 1)."""

from __future__ import annotations

import json as _json
from typing import TextIO

from scanner.config import OutputFormat
from scanner.report import Report
from scanner.reporters.base import Reporter, report_record


class JsonReporter(Reporter):
    format = OutputFormat.JSON

    def write(self, report: Report, stream: TextIO) -> None:
        _json.dump(report_record(report), stream, indent=2)
        stream.write("\n")
