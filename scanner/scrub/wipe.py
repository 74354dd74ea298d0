"""Which bytes of one decoded dump to overwrite, and overwriting them in a copy.

For every finding at or above the threshold: its whole structure (the PEM
block, the DER, the blob, the keystore, the raw number), the structures of
every other candidate that proved the same key (a base64 copy inside a PEM
block, say), and every copy of every secret component of that key in every
layout (scanner.scrub.material), wherever it lies in the file.  Wiped bytes
become zeros: the copy keeps its length, so every offset in the format's
headers stays true.

The pattern search reads the file in blocks that overlap by the longest
pattern less one byte, so a copy that crosses a block edge is found once.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from scanner.config import Severity
from scanner.findings import Finding, ProvenCandidate
from scanner.keys.material import private_key_of
from scanner.scrub.material import secret_patterns

SEARCH_BLOCK = 16 * 1024 * 1024
ZERO_BLOCK = bytes(1024 * 1024)


@dataclass(frozen=True)
class WipePlan:
    """What to wipe in one decoded dump.

    findings: the findings at or above the threshold (what the report said).
    ranges: merged, sorted [start, end) byte ranges.
    """

    findings: tuple[Finding, ...]
    ranges: tuple[tuple[int, int], ...]


def at_or_above(findings: Iterable[Finding], threshold: Severity) -> tuple[Finding, ...]:
    return tuple(f for f in findings if f.severity.rank >= threshold.rank)


def plan_wipe(
    file: Path, findings: Sequence[Finding], proven: Sequence[ProvenCandidate]
) -> WipePlan:
    """The ranges that hold `findings` (already filtered by threshold) and their keys."""
    ranges = [(f.offset, f.offset + f.length) for f in findings]
    fingerprints = {f.fingerprint for f in findings if f.fingerprint}
    patterns: set[bytes] = set()
    for item in proven:
        if item.key.fingerprint not in fingerprints:
            continue
        candidate = item.candidate
        ranges.append((candidate.offset, candidate.offset + candidate.length))
        private_key = private_key_of(candidate.payload)
        if private_key is not None:
            patterns |= secret_patterns(private_key)
    ranges.extend(find_patterns(file, patterns))
    return WipePlan(tuple(findings), merge(ranges))


def find_patterns(file: Path, patterns: Iterable[bytes]) -> list[tuple[int, int]]:
    """Every occurrence of every pattern in `file`, as [start, end) ranges."""
    wanted = sorted(set(patterns), key=len)
    if not wanted:
        return []
    overlap = len(wanted[-1]) - 1
    found: set[tuple[int, int]] = set()
    with file.open("rb") as stream:
        start = 0
        while True:
            stream.seek(start)
            block = stream.read(SEARCH_BLOCK + overlap)
            if not block:
                break
            owned = min(SEARCH_BLOCK, len(block))  # a hit starting past it is the next block's
            for pattern in wanted:
                at = block.find(pattern)
                while 0 <= at < owned:
                    found.add((start + at, start + at + len(pattern)))
                    at = block.find(pattern, at + 1)
            if len(block) <= SEARCH_BLOCK:
                break
            start += SEARCH_BLOCK
    return sorted(found)


def merge(ranges: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(r for r in ranges if r[1] > r[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def write_wiped_copy(source: Path, target: Path, ranges: Sequence[tuple[int, int]]) -> None:
    """Copy `source` to `target` with zeros over `ranges`; every other byte identical."""
    shutil.copyfile(source, target)
    fd = os.open(target, os.O_WRONLY)
    try:
        for start, end in ranges:
            position = start
            while position < end:
                count = min(len(ZERO_BLOCK), end - position)
                os.pwrite(fd, ZERO_BLOCK[:count], position)
                position += count
        os.fsync(fd)
    finally:
        os.close(fd)
