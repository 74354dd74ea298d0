"""Formats stage: the ordered reader registry (first probe that matches wins, raw last)."""

from __future__ import annotations

from scanner.formats.base import Dump, DumpReader, Region
from scanner.formats.elfcore import ElfCoreReader
from scanner.formats.hprof import HprofReader
from scanner.formats.memimage import MemoryImageReader
from scanner.formats.minidump import MinidumpReader
from scanner.formats.raw import RawReader

# Order matters: specific magic first; RawReader accepts anything, so it is last.
# MemoryImageReader comes before ElfCoreReader: it takes the ELF vmcores the latter would too.
READERS: tuple[DumpReader, ...] = (
    MemoryImageReader(),
    ElfCoreReader(),
    MinidumpReader(),
    HprofReader(),
    RawReader(),
)


def reader_for(head: bytes) -> DumpReader:
    """The first registered reader whose probe accepts `head` (raw when none does)."""
    for reader in READERS:
        if reader.probe(head):
            return reader
    raise AssertionError("the raw reader accepts every head")  # pragma: no cover


def describe(dump: Dump) -> dict[str, object]:
    """A JSON-ready view of a dump's headers for the `inspect` command (with "layers",
    the volatility3 layer stack, for memory images)."""
    view: dict[str, object] = {
        "format": dump.format,
        "process_name": dump.process_name,
        "pid": dump.pid,
        "defects": list(dump.defects),
        "regions": [describe_region(region) for region in dump.regions],
    }
    if dump.layers:
        view["layers"] = " -> ".join(dump.layers)
    return view


def describe_region(region: Region) -> dict[str, object]:
    return {
        "file_offset": region.file_offset,
        "size": region.size,
        "address": region.address,
        "permissions": region.permissions,
        "name": region.name,
        "module": region.module,
    }


__all__ = ["READERS", "Dump", "DumpReader", "Region", "describe", "reader_for"]
