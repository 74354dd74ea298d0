"""The export gate as one operation: copy clean dumps out, refuse or scrub the rest.

For each source file (directories are walked; the relative layout is kept):

1. The file is copied into a staging directory beside the target directory
   (``.<DIR>.dumpguard-staging``, same file system, never inside DIR), its
   SHA-256 taken while copying.  Everything after is decided on that copy, so
   the bytes exported are exactly the bytes scanned.
2. The copy is scanned.  Clean (nothing at or above the gate's threshold,
   scanned whole): moved into DIR with one rename.  Findings: refused, or with
   --scrub, scrubbed (scanner.scrub, which proves its output clean) and the
   scrubbed copy moved into DIR.  Not scanned whole: refused.
3. One JSON Lines record per decision is appended to the audit log (time,
   path, size, SHA-256 before and after, decision, finding fingerprints), with
   a single write of the whole line, so a line is never half there.

A file lands in DIR only by a rename from the staging directory, so DIR never
holds a partial file, even when the export is interrupted or killed; staging
leftovers from a killed run are removed by the next run.  A file that already
exists in DIR is not replaced.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from scanner.config import FailOn, ScanConfig, Severity
from scanner.errors import ScannerError
from scanner.pipeline import Pipeline
from scanner.report import GateDecision, Report, gate
from scanner.scrub import ScrubConfig, scrub

COPY_BLOCK = 1024 * 1024


class Decision(enum.Enum):
    EXPORTED = "exported"
    SCRUBBED = "exported-scrubbed"
    REFUSED_FINDINGS = "refused-findings"
    REFUSED_UNSCANNABLE = "refused-unscannable"
    REFUSED_EXISTS = "refused-exists"
    FAILED = "failed"

    @property
    def exported(self) -> bool:
        return self in (Decision.EXPORTED, Decision.SCRUBBED)


@dataclass(frozen=True)
class ExportConfig:
    """sources: files or directories; target: DIR; scan: the scan options (paths unused).

    fail_on: the gate; findings at or above it refuse a file (or, with scrub, are wiped).
    """

    sources: tuple[Path, ...]
    target: Path
    scan: ScanConfig
    fail_on: FailOn = FailOn.HIGH
    scrub: bool = False
    audit_log: Path | None = None

    @property
    def log_path(self) -> Path:
        return self.audit_log or self.target / "dumpguard-audit.jsonl"


@dataclass(frozen=True)
class ExportRecord:
    """One decision, as the audit log holds it (fingerprints only, never key material)."""

    time: str
    path: str
    size: int | None
    sha256_before: str | None
    sha256_after: str | None
    decision: Decision
    fingerprints: tuple[str, ...]
    exported_to: str | None
    reason: str | None

    def as_json(self) -> str:
        record = dataclasses.asdict(self)
        record["decision"] = self.decision.value
        record["fingerprints"] = list(self.fingerprints)
        return json.dumps(record, sort_keys=False)


def export(config: ExportConfig) -> Iterator[ExportRecord]:
    """Export each source file; yields each decision once it is logged."""
    target = config.target
    target.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.dumpguard-staging"
    shutil.rmtree(staging, ignore_errors=True)  # a killed run's leftovers
    staging.mkdir()
    pipeline = Pipeline(dataclasses.replace(config.scan, paths=()))  # rules compiled once
    try:
        for source, relative in _source_files(config.sources):
            record = _export_one(config, pipeline, source, relative, staging)
            _append(config.log_path, record)
            yield record
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _source_files(sources: tuple[Path, ...]) -> Iterator[tuple[Path, Path]]:
    for source in sources:
        if source.is_dir():
            for path in sorted(p for p in source.rglob("*") if p.is_file() and not p.is_symlink()):
                yield path, path.relative_to(source)
        else:
            yield source, Path(source.name)


def _export_one(
    config: ExportConfig, pipeline: Pipeline, source: Path, relative: Path, staging: Path
) -> ExportRecord:
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    record = ExportRecord(now, str(source), None, None, None, Decision.FAILED, (), None, None)
    destination = config.target / relative
    if destination.exists():
        return dataclasses.replace(
            record, decision=Decision.REFUSED_EXISTS, reason=f"{destination} exists"
        )
    staged = staging / "copy"
    try:
        size, digest = _copy_hashing(source, staged)
    except OSError as error:
        return dataclasses.replace(record, reason=f"{source}: cannot read: {error.strerror}")
    record = dataclasses.replace(record, size=size, sha256_before=digest)
    try:
        return _decide(
            config, pipeline, source=source, staged=staged, destination=destination, record=record
        )
    except ScannerError as error:
        return dataclasses.replace(record, reason=str(error).replace(str(staged), str(source)))
    finally:
        for leftover in staging.iterdir():
            leftover.unlink()


def _decide(
    config: ExportConfig,
    pipeline: Pipeline,
    *,
    source: Path,
    staged: Path,
    destination: Path,
    record: ExportRecord,
) -> ExportRecord:
    report = pipeline.scan_paths((str(staged),))
    fingerprints = _fingerprints(report, config.fail_on)
    record = dataclasses.replace(record, fingerprints=fingerprints)
    decision = gate(report, config.fail_on)
    if decision is GateDecision.INCOMPLETE:
        errors = "; ".join(r.error or r.path for r in report.inputs if r.error)
        reason = errors.replace(str(staged), str(source)) or "nothing was scanned"
        return dataclasses.replace(record, decision=Decision.REFUSED_UNSCANNABLE, reason=reason)
    if decision is GateDecision.CLEAN:
        _land(staged, destination)
        return dataclasses.replace(
            record,
            decision=Decision.EXPORTED,
            sha256_after=record.sha256_before,
            exported_to=str(destination),
        )
    if not config.scrub:
        return dataclasses.replace(record, decision=Decision.REFUSED_FINDINGS)
    scrubbed = staged.with_name("scrubbed")
    threshold = config.fail_on.severity or Severity.CRITICAL
    scrub(ScrubConfig(staged, scrubbed, config.scan, threshold), pipeline)
    after = _sha256(scrubbed)
    _land(scrubbed, destination)
    return dataclasses.replace(
        record, decision=Decision.SCRUBBED, sha256_after=after, exported_to=str(destination)
    )


def _fingerprints(report: Report, fail_on: FailOn) -> tuple[str, ...]:
    threshold = fail_on.severity
    return tuple(
        sorted(
            {
                f.fingerprint or f.kind.value
                for f in report.findings
                if threshold is not None and f.severity.rank >= threshold.rank and not f.suppressed
            }
        )
    )


def _copy_hashing(source: Path, target: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as reader, target.open("wb") as writer:
        while block := reader.read(COPY_BLOCK):
            digest.update(block)
            writer.write(block)
            size += len(block)
        writer.flush()
        os.fsync(writer.fileno())
    shutil.copymode(source, target)
    return size, "sha256:" + digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as reader:
        while block := reader.read(COPY_BLOCK):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def _land(staged: Path, destination: Path) -> None:
    """One rename into DIR: the file is there whole, or not at all."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, destination)
    directory = os.open(destination.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _append(log: Path, record: ExportRecord) -> None:
    """One write of the whole line to a file opened for appending (O_APPEND)."""
    line = (record.as_json() + "\n").encode()
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
