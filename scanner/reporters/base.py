"""Reporters take a finished Report, never the engine, and write text.

`finding_record` / `input_record` define the JSON contract (report version 1);
later work may add fields, never rename or remove them.
"""

from __future__ import annotations

import abc
from typing import ClassVar, TextIO

from scanner.config import OutputFormat, Severity
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
        "process": result.process,
        "pid": result.pid,
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
        "suppressed": finding.suppressed,
        "suppression": _suppression_record(finding),
    }


def _suppression_record(finding: Finding) -> dict[str, object] | None:
    suppression = finding.suppression
    if suppression is None:
        return None
    return {
        "reason": suppression.reason,
        "expires": suppression.expires.isoformat() if suppression.expires else None,
        "expired": not suppression.active,
    }


def report_record(report: Report) -> dict[str, object]:
    return {
        "version": REPORT_VERSION,
        "tool": tool_record(report),
        "inputs": [input_record(result) for result in report.inputs],
        "findings": [finding_record(finding) for finding in report.findings],
        "summary": report.summary(),
    }


# How each raw-number layout is stored, in words a reader of the report knows.
_LAYOUT_WORDS = {
    "be": "big-endian bytes",
    "le": "little-endian limbs",
    "be32-words-le": "JVM BigInteger words",
    "bignum-le": "an OpenSSL BIGNUM",
    "bignum32-le": "an OpenSSL BIGNUM (32-bit)",
    "der-octet-string": "a DER remnant",
    "der-integer": "a DER INTEGER remnant",
    "raw": "raw bytes",
}
_RECOVERING_DETECTORS = frozenset({"rsa-factor", "ec-scalar", "ecx-seed"})
_WHY = {
    Severity.CRITICAL: "its public half is a known key: whoever holds this dump can use that key",
    Severity.HIGH: "an unencrypted private key: whoever holds this dump can use it",
    Severity.MEDIUM: "protected only by its passphrase or password",
    Severity.LOW: "part of a mapped program file, not a secret the process leaked",
    Severity.INFO: "public material, listed as an inventory",
}


def key_name(finding: Finding) -> str:
    """The key as people name it: RSA-2048, EC secp256r1, Ed25519."""
    if finding.curve:
        return f"{finding.algorithm} {finding.curve}"
    if finding.algorithm in ("RSA", "DSA") and finding.bits:
        return f"{finding.algorithm}-{finding.bits}"
    return finding.algorithm or "unknown-algorithm"


def finding_sentence(finding: Finding) -> str:
    """One line: what was found, how it was stored, where, and why it matters.

    "RSA-2048 private key of known key kid=ab12, recovered from little-endian
    limbs in anonymous rw-: its public half is a known key: ..."
    """
    what = f"{key_name(finding)} {finding.kind.value.replace('-', ' ')}"
    if finding.known_key:
        what += f" of known key {finding.known_key.id}"
    if finding.detector in _RECOVERING_DETECTORS:
        how = f"recovered from {_LAYOUT_WORDS.get(finding.encoding, finding.encoding)}"
    else:
        how = f"stored as {finding.detector} ({finding.encoding})"
    why = _WHY[finding.severity]
    if finding.suppression is not None:
        expires = finding.suppression.expires
        state = "suppressed by baseline" if finding.suppression.active else "baseline entry expired"
        why += f" ({state}: {finding.suppression.reason}"
        why += f", expires {expires.isoformat()})" if expires else ")"
    if finding.address is None:  # a file, not process memory: where is the offset
        return f"{what}, {how}: {why}"
    where = finding.module or finding.region or "anonymous memory"
    return f"{what}, {how} in {where}: {why}"
