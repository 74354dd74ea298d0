"""SARIF 2.1.0 (OASIS), for code scanning: one run, one rule per detector.

Mapping (SARIF 2.1.0 sections in brackets):

* tool.driver.rules [3.19.23]: every registered detector, sorted by id, plus
  any detector a finding names that is not registered; `ruleIndex` points
  into that list.  Rules carry GitHub code scanning's `security-severity`
  and the `security` tag, so findings land in the repository's security tab.
* results [3.27]: one per finding.  `level` follows the severity (critical
  and high: error; medium: warning; low and info: note); `message` says in
  one sentence what was found and why it matters; the location is the dump
  file (its outermost file on disk when the finding is inside an archive)
  with a byte region (`byteOffset`/`byteLength`, 3.30.13-14, offsets in the
  decoded dump; `startLine` 1 too, which GitHub requires of every result)
  and, for process memory, an `address` [3.32] with the
  virtual or physical address, the region as `name` and the module as
  `fullyQualifiedName`.  `partialFingerprints` holds the key fingerprint, so
  a key stays one alert across runs; properties carry the report-contract
  fields (fingerprint, known key id, encoding...), never key material.
* suppressions [3.35]: a finding a baseline accepts keeps its result, with an
  external, accepted suppression and the entry's reason as justification.
* invocations[0] [3.20]: `executionSuccessful` is false when an input could
  not be scanned, and each such input is a `toolExecutionNotification` with
  level error naming it: a gate that reads SARIF fails closed too.
* artifacts [3.24]: every input with its length and format.

URIs: a relative input path stays relative to the SRCROOT base id (what
GitHub resolves against the repository); an absolute one becomes a file URI.
"""

from __future__ import annotations

import json
import sys
from pathlib import PurePosixPath
from typing import TextIO
from urllib.parse import quote

from scanner.config import OutputFormat, Severity
from scanner.detectors import PARSERS
from scanner.findings import Finding
from scanner.report import InputResult, InputStatus, Report
from scanner.reporters.base import Reporter, finding_sentence
from scanner.sources.base import MEMBER_SEPARATOR

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/dumpguard/dumpguard"
SOURCE_ROOT = "SRCROOT"

LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub maps 9.0+ to critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.0",
    Severity.LOW: "2.0",
    Severity.INFO: "0.0",
}
# Searches for known keys' components (scanner.detectors.components): named here so
# that a report is not the reason to import their numeric stack.
COMPONENT_RULES = {
    "rsa-factor": "A prime factor of a known RSA modulus stored as a raw number",
    "ec-scalar": "The private scalar of a known EC public key stored as a raw number",
    "ecx-seed": "The private key of a known Ed25519/X25519/Ed448/X448 public key",
}


class SarifReporter(Reporter):
    format = OutputFormat.SARIF

    def write(self, report: Report, stream: TextIO) -> None:
        json.dump(sarif_log(report), stream, indent=2)
        stream.write("\n")


def sarif_log(report: Report) -> dict[str, object]:
    rule_ids = _rule_ids(report.findings)
    index_of = {rule_id: index for index, rule_id in enumerate(rule_ids)}
    run = {
        "tool": {
            "driver": {
                "name": report.tool_name,
                "version": report.tool_version,
                "semanticVersion": report.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(rule_id) for rule_id in rule_ids],
            }
        },
        "originalUriBaseIds": {SOURCE_ROOT: {"description": {"text": "The scan's directory"}}},
        "invocations": [_invocation(report)],
        "artifacts": [_artifact(result) for result in report.inputs],
        "results": [_result(finding, index_of[finding.detector]) for finding in report.findings],
        "columnKind": "unicodeCodePoints",
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _rule_ids(findings: tuple[Finding, ...]) -> list[str]:
    return sorted(set(PARSERS) | set(COMPONENT_RULES) | {f.detector for f in findings})


def _rule(rule_id: str) -> dict[str, object]:
    description = COMPONENT_RULES.get(rule_id) or _parser_description(rule_id)
    return {
        "id": rule_id,
        "name": "".join(part.capitalize() for part in rule_id.split("-")),
        "shortDescription": {"text": description},
        "fullDescription": {"text": description},
        "help": {
            "text": (
                "A private key in a memory dump is a leaked key: whoever holds the dump can "
                "use it. Do not export the dump; scrub it (dumpguard scrub) or rotate the key."
            )
        },
        "defaultConfiguration": {"level": "error"},
        "properties": {
            "tags": ["security", "secret", "private-key"],
            "security-severity": SECURITY_SEVERITY[Severity.HIGH],
            "precision": "very-high",
        },
    }


def _parser_description(rule_id: str) -> str:
    """The first docstring line of the detector's module: the structure it reads."""
    parser = PARSERS.get(rule_id)
    module = sys.modules.get(type(parser).__module__) if parser is not None else None
    doc = (module.__doc__ or "").strip() if module is not None else ""
    return doc.splitlines()[0].rstrip(".") if doc else f"Key material found by {rule_id}"


def _result(finding: Finding, rule_index: int) -> dict[str, object]:
    result: dict[str, object] = {
        "ruleId": finding.detector,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": finding_sentence(finding)},
        "locations": [{"physicalLocation": _physical_location(finding)}],
        "properties": {
            "severity": finding.severity.value,
            "security-severity": SECURITY_SEVERITY[finding.severity],
            "path": finding.path,
            "format": finding.format,
            "kind": finding.kind.value,
            "algorithm": finding.algorithm,
            "bits": finding.bits,
            "curve": finding.curve,
            "encoding": finding.encoding,
            "fingerprint": finding.fingerprint,
            "knownKey": (
                {"id": finding.known_key.id, "source": finding.known_key.source}
                if finding.known_key
                else None
            ),
        },
    }
    if finding.fingerprint:
        result["partialFingerprints"] = {"keyFingerprint/v1": finding.fingerprint}
    if finding.suppressed and finding.suppression is not None:
        # 3.35: an accepted finding stays in the log, marked as such.
        result["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": finding.suppression.reason}
        ]
    return result


def _physical_location(finding: Finding) -> dict[str, object]:
    location: dict[str, object] = {
        "artifactLocation": artifact_location(finding.path),
        # GitHub code scanning shows a result only with region.startLine; a dump has no
        # lines, so the byte region (3.30.13-14) is the location and line 1 the anchor.
        "region": {
            "startLine": 1,
            "byteOffset": finding.offset,
            "byteLength": max(1, finding.length),
        },
    }
    if finding.address is not None:
        address: dict[str, object] = {
            "absoluteAddress": finding.address,
            "length": finding.length,
            "kind": "data",
            "name": finding.region or "anonymous",
        }
        if finding.module:
            address["fullyQualifiedName"] = finding.module
        location["address"] = address
    return location


def _invocation(report: Report) -> dict[str, object]:
    failed = [result for result in report.inputs if result.status is InputStatus.ERROR]
    return {
        "executionSuccessful": not failed and bool(report.inputs),
        "toolExecutionNotifications": [_notification(result) for result in failed],
    }


def _notification(result: InputResult) -> dict[str, object]:
    return {
        "level": "error",
        "message": {"text": result.error or f"{result.path}: not scanned"},
        "locations": [{"physicalLocation": {"artifactLocation": artifact_location(result.path)}}],
        "descriptor": {"id": "input-not-scanned"},
    }


def _artifact(result: InputResult) -> dict[str, object]:
    artifact: dict[str, object] = {
        "location": artifact_location(result.path),
        "properties": {"path": result.path, "format": result.format, "status": result.status.value},
    }
    if result.size is not None:
        artifact["length"] = result.size
    return artifact


def artifact_location(display_path: str) -> dict[str, object]:
    """The file on disk a display path starts with ("a.tar.gz!core" -> a.tar.gz)."""
    outer = display_path.split(MEMBER_SEPARATOR, 1)[0]
    path = PurePosixPath(outer)
    if path.is_absolute():
        return {"uri": "file://" + quote(str(path))}
    return {"uri": quote(str(path)), "uriBaseId": SOURCE_ROOT}
