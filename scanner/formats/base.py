"""Formats stage: readers that turn a blob into memory regions.

Readers probe before they open: `probe(head)` looks at the first bytes only,
the registry in `scanner.formats` tries readers in order and the first match
wins, the raw reader last (it accepts anything).  `read` parses headers and
returns a `Dump` describing where each region's bytes lie in the file; it never
reads region contents (the detectors stream those in chunks).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar


@dataclass(frozen=True)
class Region:
    """A run of dumped memory whose bytes lie contiguously in the file.

    file_offset/size: where the bytes are in the (decoded) file.
    address: the virtual (or physical) address of the first byte, None for raw files.
    permissions: "rwx"-style string, None when the format does not say.
    name: mapping or module name for display, None for anonymous memory.
    module: the file mapped at this region (program or library), None when anonymous.
    """

    file_offset: int
    size: int
    address: int | None = None
    permissions: str | None = None
    name: str | None = None
    module: str | None = None

    @property
    def file_end(self) -> int:
        return self.file_offset + self.size


@dataclass(frozen=True)
class Dump:
    """What a reader sees in one blob.

    defects: problems that leave part of the dump unreadable (a segment that
    points past the end of a cut file, say).  The readable regions are still
    scanned, but the input is reported with status "error" so the gate fails
    closed: a dump that was not read whole is never called clean.
    layers: for memory images read through volatility3, the layer stack it
    chose, bottom first (("FileLayer", "LimeLayer")); empty for formats
    dumpguard parses itself.
    """

    format: str
    regions: tuple[Region, ...]
    process_name: str | None = None
    pid: int | None = None
    defects: tuple[str, ...] = ()
    layers: tuple[str, ...] = ()


class DumpReader(abc.ABC):
    """One dump format."""

    name: ClassVar[str]

    @abc.abstractmethod
    def probe(self, head: bytes) -> bool:
        """True when `head` (first 4 KiB or less) looks like this format."""

    @abc.abstractmethod
    def read(self, path: Path, size: int) -> Dump:
        """Parse the headers of `path`; raise FormatError when they are unusable."""


# A cut file can hold thousands of cut segments; the report lists this many.
MAX_DEFECTS = 16


def clip_to_file(
    label: str, file_offset: int, wanted: int, file_size: int
) -> tuple[int, str | None]:
    """How many of `wanted` bytes at `file_offset` the file holds, and a defect when cut.

    `label` names the segment or range in the defect ("segment 3 (PT_LOAD at ...)").
    """
    kept = max(0, min(wanted, file_size - file_offset))
    if kept == wanted:
        return kept, None
    outcome = f"clipped to 0x{kept:x} bytes" if kept else "dropped"
    return kept, (
        f"{label}: file bytes 0x{file_offset:x}-0x{file_offset + wanted:x} run past "
        f"end of file at 0x{file_size:x}; {outcome}"
    )


def cap_defects(defects: list[str], noun: str) -> tuple[str, ...]:
    """At most MAX_DEFECTS defects, then one line counting the rest."""
    if len(defects) <= MAX_DEFECTS:
        return tuple(defects)
    hidden = len(defects) - MAX_DEFECTS
    return (*defects[:MAX_DEFECTS], f"... and {hidden} more {noun} cut the same way")
