"""JSON Lines: one record per line, for streaming consumers.

Each line has a "record" field: "tool" first (with the report version), then
one "input" line per input, one "finding" line per finding, and "summary" last.
Input and finding lines carry exactly the fields of the JSON report's objects.
"""

from __future__ import annotations

import json
from typing import TextIO

from scanner.config import OutputFormat
from scanner.report import Report
from scanner.reporters.base import (
    REPORT_VERSION,
    Reporter,
    finding_record,
    input_record,
    tool_record,
)


class JsonLinesReporter(Reporter):
    format = OutputFormat.JSONL

    def write(self, report: Report, stream: TextIO) -> None:
        def line(record: dict[str, object]) -> None:
            stream.write(json.dumps(record, separators=(",", ":")) + "\n")

        line({"record": "tool", "version": REPORT_VERSION, "tool": tool_record(report)})
        for result in report.inputs:
            line({"record": "input", **input_record(result)})
        for finding in report.findings:
            line({"record": "finding", **finding_record(finding)})
        line({"record": "summary", "summary": report.summary()})
