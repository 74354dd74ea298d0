"""The chunk driver: streams regions through the engine and hands owned matches to parsers.

See `scanner.detectors.base` for the overlap contract this module implements.
Regions that are contiguous both in the file and in the address space are
scanned as one span, so a key that crosses from one mapping into the next
(gcore may split one heap mapping into several segments) is still found,
while bytes of regions that are not contiguous in memory are never joined.
"""

from __future__ import annotations

import bisect
import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from scanner.detectors.base import Candidate, Parser, Window, overlap_for
from scanner.detectors.components.base import AddressSpace, ComponentSearch
from scanner.detectors.engines import Engine
from scanner.detectors.engines.base import RuleMatch
from scanner.errors import DetectorError
from scanner.formats.base import Region

# Known-key searches are Python and gmpy2 work that holds the GIL, and so does
# yara-x's scan: with either, a file of at least this many chunks is scanned by
# forked worker processes, so both cores work; yara-python scans on threads.
PROCESS_MIN_CHUNKS = 4

# Below this many owned bytes a saturated window is not split further: a pattern
# matching a million times in so few bytes is an attack on the scanner, and the
# input is reported as not scanned rather than silently passed.
MIN_SPLIT_BYTES = 64 * 1024


@dataclass(frozen=True)
class Span:
    """Regions contiguous in file and address space, scanned as one byte run."""

    file_offset: int
    size: int

    @property
    def file_end(self) -> int:
        return self.file_offset + self.size


# Spans shorter than this are scanned in batches (see plan_all): a heap dump
# holds millions of arrays, and one engine call each would cost more than their bytes.
SMALL_SPAN_BYTES = 64 * 1024


@dataclass(frozen=True)
class ChunkPlan:
    """One chunk: reads [read_start, read_end), owns [read_start, owned_end).

    spans: for a batch of small spans (owned_end == read_end), the spans it
    scans; the bytes between them are read but never scanned.
    """

    read_start: int
    owned_end: int
    read_end: int
    spans: tuple[Span, ...] = ()


def _continues(previous: Region, region: Region) -> bool:
    if region.file_offset != previous.file_end:
        return False
    if previous.address is None or region.address is None:
        return previous.address is None and region.address is None
    return region.address == previous.address + previous.size


def spans_of(regions: Sequence[Region]) -> list[Span]:
    """Merge regions that continue each other in the file and in memory."""
    spans: list[Span] = []
    previous: Region | None = None
    for region in sorted(regions, key=lambda r: r.file_offset):
        if region.size <= 0:
            continue
        if previous is not None and spans and _continues(previous, region):
            last = spans[-1]
            spans[-1] = Span(last.file_offset, last.size + region.size)
        else:
            spans.append(Span(region.file_offset, region.size))
        previous = region
    return spans


def plan_all(spans: Sequence[Span], chunk_size: int, overlap: int) -> Iterator[ChunkPlan]:
    """Chunks of every span; runs of small spans within chunk_size of file are one batch."""
    batch: list[Span] = []
    for span in spans:
        if batch and (
            span.size >= SMALL_SPAN_BYTES or span.file_end - batch[0].file_offset > chunk_size
        ):
            yield from _batch_plans(batch, chunk_size, overlap)
            batch = []
        if span.size >= SMALL_SPAN_BYTES:
            yield from plan_chunks(span, chunk_size, overlap)
        else:
            batch.append(span)
    yield from _batch_plans(batch, chunk_size, overlap)


def _batch_plans(batch: list[Span], chunk_size: int, overlap: int) -> Iterator[ChunkPlan]:
    if len(batch) == 1:
        yield from plan_chunks(batch[0], chunk_size, overlap)
    elif batch:
        yield ChunkPlan(batch[0].file_offset, batch[-1].file_end, batch[-1].file_end, tuple(batch))


def plan_chunks(span: Span, chunk_size: int, overlap: int) -> Iterator[ChunkPlan]:
    """Chunks of `span`: each owns chunk_size bytes and reads `overlap` more (clipped)."""
    for start in range(span.file_offset, span.file_end, chunk_size):
        owned_end = min(start + chunk_size, span.file_end)
        yield ChunkPlan(start, owned_end, min(owned_end + overlap, span.file_end))


class ChunkScanner:
    """Runs one engine and a parser registry over the regions of one file."""

    def __init__(
        self,
        engine: Engine,
        parsers: Mapping[str, Parser],
        chunk_size: int,
        jobs: int = 1,
        searches: Sequence[ComponentSearch] = (),
    ) -> None:
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        self._engine = engine
        self._parsers = dict(parsers)
        self._searches = tuple(searches)
        self._overlap = max(
            overlap_for(list(self._parsers.values())),
            max((search.max_length for search in self._searches), default=0),
        )
        self._chunk_size = chunk_size
        self._jobs = max(1, jobs)

    @property
    def overlap(self) -> int:
        return self._overlap

    def scan_file(
        self,
        path: Path,
        regions: Sequence[Region],
        on_chunk: Callable[[int], None] | None = None,
    ) -> list[Candidate]:
        """Every candidate in the regions of `path`, in chunk order.

        on_chunk: told the owned bytes of each chunk as its results arrive (progress).
        """
        plans = list(plan_all(spans_of(regions), self._chunk_size, self._overlap))
        candidates: list[Candidate] = []
        chunk_results = self._chunk_results(path, regions, plans)
        for plan, chunk_candidates in zip(plans, chunk_results, strict=True):
            candidates.extend(chunk_candidates)
            if on_chunk is not None:
                on_chunk(plan.owned_end - plan.read_start)
        return candidates

    def _chunk_results(
        self, path: Path, regions: Sequence[Region], plans: Sequence[ChunkPlan]
    ) -> Iterator[list[Candidate]]:
        holds_gil = bool(self._searches) or not self._engine.releases_gil
        if holds_gil and self._jobs > 1 and len(plans) >= PROCESS_MIN_CHUNKS:
            yield from self._scan_in_processes(path, tuple(regions), plans)
            return
        fd = os.open(path, os.O_RDONLY)
        try:
            memory = AddressSpace(fd, regions)
            yield from self._map_bounded(fd, memory, plans)
        finally:
            os.close(fd)

    def _scan_in_processes(
        self, path: Path, regions: tuple[Region, ...], plans: Sequence[ChunkPlan]
    ) -> Iterator[list[Candidate]]:
        """Scan chunks in forked workers that inherit this scanner (engine, searches)."""
        global _FORKED_JOB  # noqa: PLW0603  (set only around the fork; see _scan_forked)
        # Workers inherit the scanner and the region list through the fork: a heap dump
        # has hundreds of thousands of regions, too many to send with every chunk.
        _FORKED_JOB = _ForkedJob(self, str(path), regions)
        try:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=self._jobs, mp_context=context) as pool:
                yield from pool.map(_scan_forked, plans, chunksize=1)
        except BrokenProcessPool as error:
            raise DetectorError(f"a scan worker died: {error}") from None
        finally:
            _FORKED_JOB = None

    def _map_bounded(
        self, fd: int, memory: AddressSpace, plans: Sequence[ChunkPlan]
    ) -> Iterator[list[Candidate]]:
        # At most 2*jobs chunks in flight: memory stays bounded whatever the input size.
        with ThreadPoolExecutor(max_workers=self._jobs) as pool:
            pending: list[Future[list[Candidate]]] = []
            for plan in plans:
                pending.append(pool.submit(self.scan_chunk, fd, memory, plan))
                if len(pending) >= 2 * self._jobs:
                    yield pending.pop(0).result()
            for future in pending:
                yield future.result()

    def scan_chunk(self, fd: int, memory: AddressSpace, plan: ChunkPlan) -> list[Candidate]:
        length = plan.read_end - plan.read_start
        data = os.pread(fd, length, plan.read_start)
        if len(data) != length:
            raise DetectorError(
                f"short read at offset {plan.read_start}: {len(data)} of {length} bytes"
            )
        if plan.spans:
            return self._scan_batch(memory, plan, data)
        window = Window(data, plan.read_start, plan.owned_end)
        return self._scan_owned(window, memory, self.scan_window(window))

    def _scan_owned(
        self, window: Window, memory: AddressSpace, found: Iterable[Candidate]
    ) -> list[Candidate]:
        candidates = list(found)
        for search in self._searches:
            candidates.extend(c for c in search.search(window, memory) if window.owns(c.offset))
        return candidates

    def _scan_batch(self, memory: AddressSpace, plan: ChunkPlan, data: bytes) -> list[Candidate]:
        """One engine call over the spans' bytes joined; each match is parsed in a
        window of its own span only, so no candidate reaches into the next span."""
        base = plan.read_start
        pieces = [data[s.file_offset - base : s.file_end - base] for s in plan.spans]
        joined_starts = list(itertools.accumulate(map(len, pieces), initial=0))
        result = self._engine.scan(b"".join(pieces))
        matched: dict[int, list[RuleMatch]] = {}
        for match in result.matches:
            index = bisect.bisect_right(joined_starts, match.offset) - 1
            matched.setdefault(index, []).append(match)
        candidates: list[Candidate] = []
        for index, span in enumerate(plan.spans):
            if not (result.saturated or self._searches or index in matched):
                continue
            window = Window(pieces[index], span.file_offset, span.file_end)
            if result.saturated:
                found: Iterable[Candidate] = self.scan_window(window)
            else:
                found = self._parse_matches(window, matched.get(index, ()), joined_starts[index])
            candidates.extend(self._scan_owned(window, memory, found))
        return candidates

    def _parse_matches(
        self, window: Window, matches: Iterable[RuleMatch], joined_start: int
    ) -> Iterator[Candidate]:
        seen: set[tuple[str, int]] = set()
        for match in sorted(matches, key=lambda m: (m.offset, m.parser)):
            if (match.parser, match.offset) in seen:
                continue
            seen.add((match.parser, match.offset))
            yield from self._parse(window, match.parser, match.offset - joined_start)

    def scan_window(self, window: Window) -> Iterator[Candidate]:
        """Candidates anchored in the window's owned range (rescanning in halves on saturation)."""
        result = self._engine.scan(window.data)
        if result.saturated:
            yield from self._scan_split(window)
            return
        seen: set[tuple[str, int]] = set()
        for match in sorted(result.matches, key=lambda m: (m.offset, m.parser)):
            anchor = window.start + match.offset
            if not window.owns(anchor) or (match.parser, anchor) in seen:
                continue
            seen.add((match.parser, anchor))
            yield from self._parse(window, match.parser, match.offset)

    def _parse(self, window: Window, parser_name: str, position: int) -> Iterable[Candidate]:
        parser = self._parsers.get(parser_name)
        if parser is None:
            raise DetectorError(f"a rule names parser {parser_name!r}, which does not exist")
        return parser.parse(window, position)

    def _scan_split(self, window: Window) -> Iterator[Candidate]:
        owned = window.owned_end - window.start
        if owned <= MIN_SPLIT_BYTES:
            raise DetectorError(
                f"more than a million pattern matches in {owned} bytes at offset {window.start}; "
                "refusing to pass this input as scanned"
            )
        window_end = window.start + len(window.data)
        middle = window.start + owned // 2
        for owned_start, owned_end in ((window.start, middle), (middle, window.owned_end)):
            read_end = min(owned_end + self._overlap, window_end)
            data = window.data[owned_start - window.start : read_end - window.start]
            yield from self.scan_window(Window(data, owned_start, owned_end))


# The scanner a forked worker inherited from its parent: set in the parent only
# while its process pool exists, so workers find the compiled rules and the
# known-key searches without pickling them.
class _ForkedJob:
    """What a forked worker scans: set in the parent before the fork, read in the worker.

    The worker opens the file and builds its address map once, on its first chunk; the
    descriptor closes when the worker exits with the pool.
    """

    def __init__(self, scanner: ChunkScanner, path: str, regions: tuple[Region, ...]) -> None:
        self.scanner = scanner
        self.path = path
        self.regions = regions
        self._opened: tuple[int, AddressSpace] | None = None

    def scan(self, plan: ChunkPlan) -> list[Candidate]:
        if self._opened is None:
            fd = os.open(self.path, os.O_RDONLY)
            self._opened = (fd, AddressSpace(fd, self.regions))
        fd, memory = self._opened
        return self.scanner.scan_chunk(fd, memory, plan)


_FORKED_JOB: _ForkedJob | None = None


def _scan_forked(plan: ChunkPlan) -> list[Candidate]:
    job = _FORKED_JOB
    if job is None:
        raise DetectorError("scan worker started without its scanner")
    return job.scan(plan)
