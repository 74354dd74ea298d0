"""Raw files: anything no other reader claims is scanned as one run of bytes."""

from __future__ import annotations

from pathlib import Path

from scanner.formats.base import Dump, DumpReader, Region


class RawReader(DumpReader):
    """The fallback: accepts every head, so it goes last in the registry.

    The whole file is one region with no address; an empty file has no region
    (a zero-length region would only give the scanner an empty chunk).
    """

    name = "raw"

    def probe(self, head: bytes) -> bool:
        return True

    def read(self, path: Path, size: int) -> Dump:
        regions = (Region(file_offset=0, size=size),) if size > 0 else ()
        return Dump(format=self.name, regions=regions)
