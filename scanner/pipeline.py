"""The library entry point: `scan(config) -> Report`.

sources -> formats -> detectors -> keys -> findings.  Each input's failure is
data (an InputResult with status "error"), never an exception out of the
loop; only configuration errors (bad rules, bad known-keys file) raise, since
then no input could be scanned meaningfully.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

from scanner.baseline import apply_baseline, load_baseline, today_utc
from scanner.config import ScanConfig
from scanner.detectors import PARSERS
from scanner.detectors.base import Candidate
from scanner.detectors.components.base import ComponentSearch, SearchConfig
from scanner.detectors.engines import build_engine
from scanner.detectors.engines.base import rule_files_in
from scanner.detectors.scan import ChunkScanner
from scanner.errors import KeyProofError, ScannerError
from scanner.findings import Finding, ProvenCandidate, build_findings
from scanner.formats import reader_for
from scanner.formats.base import Dump
from scanner.keys.keystore import is_keystore, open_keystore
from scanner.keys.known import KnownKeyIndex, load_known_keys
from scanner.keys.prove import prove
from scanner.progress import ScanProgress
from scanner.report import InputResult, InputStatus, Report
from scanner.sources import iter_inputs
from scanner.sources.base import Blob, Skipped, Spool


def _builtin_rules() -> Path:
    """rules/ of the source tree (a checkout or an editable install), else the copy a
    wheel installs under <prefix>/share/dumpguard/rules (pyproject data-files)."""
    checkout = Path(__file__).resolve().parent.parent / "rules"
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "dumpguard" / "rules"


BUILTIN_RULES = _builtin_rules()


@dataclass(frozen=True)
class Scanned:
    """One input's result and findings; `proven` keeps the candidates behind them
    (with their payloads) for scrub, which must know what it wipes."""

    result: InputResult
    findings: tuple[Finding, ...]
    proven: tuple[ProvenCandidate, ...] = field(default=(), repr=False)


class Pipeline:
    """The engine, parsers and known keys a scan needs, built once per scan."""

    def __init__(self, config: ScanConfig, progress: ScanProgress | None = None) -> None:
        self.config = config
        self.progress = progress
        rule_files = rule_files_in((BUILTIN_RULES, *config.rules_dirs))
        engine = build_engine(config.engine, rule_files)
        self.known: KnownKeyIndex = load_known_keys(config.known_keys)
        searches = _searches_for(self.known, SearchConfig(deep=config.deep))
        self.chunks = ChunkScanner(engine, PARSERS, config.chunk_size, config.jobs, searches)
        self.baseline = load_baseline(config.baseline) if config.baseline else None

    def run(self, stdin: BinaryIO | None) -> Report:
        return self.scan_paths(self.config.paths, stdin)

    def scan_paths(self, paths: Sequence[str], stdin: BinaryIO | None = None) -> Report:
        """A report on `paths` with this pipeline's rules, known keys and options: scrub and
        export scan file after file without compiling the rules again for each."""
        scanned = list(self._scan_all(paths, stdin))
        findings = tuple(f for s in scanned for f in s.findings)
        if self.baseline is not None:
            findings = apply_baseline(findings, self.baseline, today_utc())
        return Report(inputs=tuple(s.result for s in scanned), findings=findings)

    def _scan_all(self, paths: Sequence[str], stdin: BinaryIO | None) -> Iterator[Scanned]:
        config = self.config
        for item in iter_inputs(
            paths,
            lambda: Spool(config.max_expansion, config.temp_dir),
            max_depth=config.max_depth,
            stdin=stdin,
        ):
            if isinstance(item, Skipped):
                yield _skipped(item)
            else:
                leaf, chain = item
                yield self.scan_leaf(leaf, tuple(chain.split("+")) if chain else ())

    def _scan_regions(self, blob: Blob, dump: Dump) -> list[Candidate]:
        if self.progress is None:
            return self.chunks.scan_file(blob.file, dump.regions)
        self.progress.input_started(blob.display_path, sum(r.size for r in dump.regions))
        try:
            return self.chunks.scan_file(blob.file, dump.regions, self.progress.scanned)
        finally:
            self.progress.input_finished()

    def prove_all(self, candidates: Iterable[Candidate]) -> list[ProvenCandidate]:
        """The candidates that prove, with the keys inside keystores that open."""
        passwords = self.config.keystore_passwords
        return [p for c in candidates for p in _proven(c, passwords)]

    def scan_leaf(self, blob: Blob, containers: tuple[str, ...]) -> Scanned:
        """Read one decoded blob's format, scan its regions, prove and attribute."""
        reader = reader_for(blob.head())
        try:
            dump = reader.read(blob.file, blob.size)
            proven = self.prove_all(self._scan_regions(blob, dump))
        except Exception as error:
            message = _name_input(blob, _describe(error))
            result = InputResult(
                blob.display_path, reader.name, blob.size, InputStatus.ERROR, message, containers
            )
            return Scanned(result, ())
        findings = build_findings(
            blob.display_path, dump.format, dump.regions, proven, self.known.lookup
        )
        status, error_text = InputStatus.OK, None
        if dump.defects:
            status = InputStatus.ERROR
            error_text = _name_input(blob, "partly unreadable: " + "; ".join(dump.defects))
        result = InputResult(
            blob.display_path,
            dump.format,
            blob.size,
            status,
            error_text,
            containers,
            dump.process_name,
            dump.pid,
        )
        return Scanned(result, tuple(findings), tuple(proven))


def _searches_for(known: KnownKeyIndex, config: SearchConfig) -> list[ComponentSearch]:
    """The known-key searches; none (and no numpy/gmpy2 import) without known keys."""
    if len(known) == 0:
        return []
    # The searches' numeric stack costs ~150 ms to import: only scans that use it pay.
    from scanner.detectors.components.registry import build_searches  # noqa: PLC0415

    return build_searches(known, config)


def _proven(candidate: Candidate, passwords: tuple[str, ...]) -> Iterator[ProvenCandidate]:
    """The candidate's key; for a keystore that opens, the store (its encoding saying
    how it opened) and every private key inside it, at the store's offset."""
    proven = _prove(candidate)
    if proven is None:
        return
    if not is_keystore(candidate.payload.kind):
        yield proven
        return
    opened = open_keystore(candidate.payload, passwords)
    if opened.encoding is None:
        yield proven
        return
    yield replace(proven, candidate=replace(candidate, encoding=opened.encoding))
    for inner in opened.private_keys:
        inner_proven = _prove(replace(candidate, encoding=inner.encoding, payload=inner.payload))
        if inner_proven is not None:
            yield inner_proven


def _prove(candidate: Candidate) -> ProvenCandidate | None:
    try:
        return ProvenCandidate(candidate, prove(candidate.payload))
    except KeyProofError:
        return None


def _describe(error: Exception) -> str:
    """One line for the report.  Only our own errors' messages are shown: they are
    written to hold no key bytes; a foreign exception's text might, so only its
    type is named."""
    if isinstance(error, ScannerError):
        lines = str(error).strip().splitlines()
        return lines[0] if lines else type(error).__name__
    if isinstance(error, OSError):
        return f"read error: {error.strerror}"
    return f"internal error ({type(error).__name__}); input not scanned"


def _name_input(blob: Blob, message: str) -> str:
    """Name the input as the user knows it, never by its temporary spool file."""
    message = message.replace(str(blob.file), blob.display_path)
    if message.startswith(f"{blob.display_path}:"):
        return message
    return f"{blob.display_path}: {message}"


def _skipped(item: Skipped) -> Scanned:
    reason = (
        item.reason
        if item.reason.startswith(item.display_path)
        else (f"{item.display_path}: {item.reason}")
    )
    result = InputResult(item.display_path, item.format, item.size, InputStatus.ERROR, reason)
    return Scanned(result, ())


def scan(
    config: ScanConfig, stdin: BinaryIO | None = None, progress: ScanProgress | None = None
) -> Report:
    """Scan every input of `config`; raise ConfigError only for unusable options."""
    return Pipeline(config, progress).run(stdin)


__all__ = ["Pipeline", "scan"]
