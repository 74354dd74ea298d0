"""Reporters take a finished Report, never the engine, and write text.

`finding_record` / `input_record` define the JSON contract (report version 1);
later work may add fields, never rename or remove them.
"""

from __future__ import annotations

import abc
from typing import ClassVar, TextIO

from scanner.config import OutputFormat
from scanner.findings import Finding
from scanner.report import InputResult, Report

REPORT_VERSION = 1


class Reporter(abc.ABC):
    format: ClassVar[OutputFormat]

    @abc.abstractmethod
    def write(self, report: Report, stream: TextIO) -> None:
        """Write the whole report to `stream`."""


def tool_record(report: Report) -> dict[str, str]:
    return {"name": report.tool_name, "version": report.tool_version}


def input_record(result: InputResult) -> dict[str, object]:
    return {
        "path": result.path,
        "format": result.format,
        "size": result.size,
        "status": result.status.value,
        "error": result.error,
        "containers": list(result.containers),
    }


def finding_record(finding: Finding) -> dict[str, object]:
    known = finding.known_key
    return {
        "path": finding.path,
        "format": finding.format,
        "offset": finding.offset,
        "length": finding.length,
        "address": finding.address,
        "region": finding.region,
        "detector": finding.detector,
        "module": finding.module,
        "encoding": finding.encoding,
        "kind": finding.kind.value,
        "algorithm": finding.algorithm,
        "bits": finding.bits,
        "curve": finding.curve,
        "fingerprint": finding.fingerprint,
        "known_key": {"id": known.id, "source": known.source} if known else None,
        "severity": finding.severity.value,
    }


def report_record(report: Report) -> dict[str, object]:
    return {
        "version": REPORT_VERSION,
        "tool": tool_record(report),
        "inputs": [input_record(result) for result in report.inputs],
        "findings": [finding_record(finding) for finding in report.findings],
        "summary": report.summary(),
    }
