"""Scrub one dump: unpack, wipe every leaf, pack again, prove the copy clean, then write.

Steps, for one input file:

1. The input is opened as a scan opens it: containers (scanner.sources) are
   unpacked member by member into a spool; every leaf is scanned by the same
   Pipeline a scan uses (same rules, known keys, searches).
2. Each leaf with findings at or above the threshold is copied with the bytes
   of scanner.scrub.wipe zeroed; containers whose members changed are packed
   again with their own codec (scanner.scrub.repack).
3. The result is scanned again, whole, as a new input.  Anything at or above
   the threshold, or any part that cannot be scanned, fails the scrub.
4. Only then is the result written to the output, atomically (scanner.atomic);
   on any failure nothing is written and the original is never touched.

Anything that cannot be read whole (a damaged member, an unreadable region)
fails the scrub: a copy that might still hold a key is never written.
"""

from __future__ import annotations

import dataclasses
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from scanner.atomic import atomic_binary
from scanner.config import ScanConfig, Severity
from scanner.errors import ScannerError, ScrubError
from scanner.findings import Finding
from scanner.pipeline import Pipeline
from scanner.report import InputStatus
from scanner.scrub.repack import REPACKERS
from scanner.scrub.wipe import at_or_above, plan_wipe, write_wiped_copy
from scanner.sources import container_for
from scanner.sources.base import Blob, Skipped, Spool

COPY_BLOCK = 1024 * 1024


@dataclass(frozen=True)
class ScrubConfig:
    """One scrub: `source` to `output` (the same path with in_place).

    scan: the scan options (known keys, rules, limits); its paths are unused.
    threshold: findings at or above this severity are wiped.
    """

    source: Path
    output: Path
    scan: ScanConfig
    threshold: Severity = Severity.HIGH
    in_place: bool = False


@dataclass(frozen=True)
class WipedRange:
    """Bytes [start, end) of the decoded dump `path` (a container member: outer!inner)."""

    path: str
    start: int
    end: int


@dataclass(frozen=True)
class ScrubResult:
    """What a scrub did: the findings wiped and the ranges zeroed; `output` was written."""

    source: str
    output: str
    scrubbed: tuple[Finding, ...]
    wiped: tuple[WipedRange, ...]

    @property
    def wiped_bytes(self) -> int:
        return sum(r.end - r.start for r in self.wiped)


@dataclass(frozen=True)
class _Leaves:
    file: Path  # the scrubbed bytes (or the original, when nothing changed)
    changed: bool
    scrubbed: tuple[Finding, ...] = ()
    wiped: tuple[WipedRange, ...] = ()


def scrub(config: ScrubConfig, pipeline: Pipeline | None = None) -> ScrubResult:
    """Scrub `config.source` into `config.output`; ScrubError (nothing written) on failure.

    pipeline: one built from `config.scan` already (export scrubs file after file).
    """
    source, output = config.source, config.output
    if output.resolve() == source.resolve() and not config.in_place:
        raise ScrubError(f"{output}: is the input; use --in-place to replace it")
    if not source.is_file():
        raise ScrubError(f"{source}: not a file")
    scan_config = config.scan
    if pipeline is None:
        pipeline = Pipeline(dataclasses.replace(scan_config, paths=(), baseline=None))
    with Spool(scan_config.max_expansion, scan_config.temp_dir) as spool:
        blob = Blob(str(source), source, source.stat().st_size)
        done = _Scrubber(pipeline, spool, config.threshold, scan_config.max_depth).blob(blob)
        _verify(pipeline, done.file, config.threshold, str(source))
        _write(done.file, output, stat.S_IMODE(source.stat().st_mode))
    return ScrubResult(str(source), str(output), done.scrubbed, done.wiped)


class _Scrubber:
    def __init__(self, pipeline: Pipeline, spool: Spool, threshold: Severity, depth: int) -> None:
        self.pipeline = pipeline
        self.spool = spool
        self.threshold = threshold
        self.max_depth = depth

    def blob(self, blob: Blob) -> _Leaves:
        container = container_for(blob.head())
        if container is None:
            return self.leaf(blob)
        if blob.depth >= self.max_depth:
            raise ScrubError(f"{blob.display_path}: containers nest deeper than {self.max_depth}")
        repacker = REPACKERS.get(container.name)
        if repacker is None:
            raise ScrubError(
                f"{blob.display_path}: {container.name} containers cannot be written back; "
                "scrub the dump inside it"
            )
        parts = [self.blob(self._readable(member)) for member in container.unpack(blob, self.spool)]
        if not any(part.changed for part in parts):
            return _Leaves(blob.file, False)
        packed = self.spool.new_file()
        with packed.open("wb") as target:
            repacker.repack(blob.file, [part.file for part in parts], target)
        return _Leaves(
            packed,
            True,
            tuple(f for part in parts for f in part.scrubbed),
            tuple(r for part in parts for r in part.wiped),
        )

    @staticmethod
    def _readable(member: Blob | Skipped) -> Blob:
        if isinstance(member, Skipped):
            raise ScrubError(f"{member.display_path}: {member.reason}; cannot scrub it")
        return member

    def leaf(self, blob: Blob) -> _Leaves:
        scanned = self.pipeline.scan_leaf(blob, ())
        if scanned.result.status is not InputStatus.OK:
            raise ScrubError(scanned.result.error or f"{blob.display_path}: not scanned whole")
        findings = at_or_above(scanned.findings, self.threshold)
        if not findings:
            return _Leaves(blob.file, False)
        plan = plan_wipe(blob.file, findings, scanned.proven)
        copy = self.spool.new_file()
        write_wiped_copy(blob.file, copy, plan.ranges)
        wiped = tuple(WipedRange(blob.display_path, start, end) for start, end in plan.ranges)
        return _Leaves(copy, True, findings, wiped)


def _verify(pipeline: Pipeline, file: Path, threshold: Severity, name: str) -> None:
    """Scan the result as a new input; it must be whole and clean at the threshold."""
    report = pipeline.scan_paths((str(file),))
    for result in report.inputs:
        if result.status is not InputStatus.OK:
            detail = (result.error or "").replace(str(file), name)
            raise ScrubError(f"{name}: the scrubbed copy cannot be scanned whole: {detail}")
    left = at_or_above(report.findings, threshold)
    if left:
        fingerprints = ", ".join(sorted({f.fingerprint or f.kind.value for f in left}))
        raise ScrubError(
            f"{name}: the scrubbed copy still holds {len(left)} finding(s) at or above "
            f"{threshold.value} ({fingerprints}); nothing written"
        )


def _write(file: Path, output: Path, mode: int) -> None:
    try:
        with (
            file.open("rb") as source,
            atomic_binary(output, "scrubbed dump", mode) as target,
        ):
            shutil.copyfileobj(source, target, COPY_BLOCK)
    except ScannerError:
        raise
    except OSError as error:
        raise ScrubError(f"{output}: cannot write: {error.strerror}") from None
