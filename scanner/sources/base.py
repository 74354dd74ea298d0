"""Sources stage: what a scan reads, and the seam for containers.

A `Blob` is one decoded byte stream held in a seekable file: a top-level input
as it is on disk, or a container member spooled to a temporary file.  Format
readers need random access (ELF program headers, minidump directories), so
members are spooled, never held in memory; the `Spool` enforces the expansion
limit while it copies, so a decompression bomb stops at the limit with a clear
error instead of filling the disk.
"""

from __future__ import annotations

import abc
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, ClassVar

from scanner.errors import ExpansionLimitError

MEMBER_SEPARATOR = "!"
COPY_BLOCK = 1024 * 1024


@dataclass(frozen=True)
class Blob:
    """One byte stream to scan.

    display_path: what reports call it, e.g. ``outer.tar.gz!inner.core``.
    file: a seekable file on disk that holds exactly its bytes.
    size: its length in bytes.
    depth: how many containers enclose it (0 for a top-level input).
    """

    display_path: str
    file: Path
    size: int
    depth: int = 0

    def member_path(self, name: str) -> str:
        return f"{self.display_path}{MEMBER_SEPARATOR}{name}"

    def head(self, length: int = 4096) -> bytes:
        with self.file.open("rb") as stream:
            return stream.read(length)


@dataclass(frozen=True)
class Skipped:
    """A member (or whole input) that could not be read; reported as status "error"."""

    display_path: str
    format: str | None
    size: int | None
    reason: str


class Spool:
    """Temporary files for container members, with a shared expansion budget.

    One Spool serves one top-level input: every byte any container under it
    writes counts against `max_expansion`.  `close()` removes every file.
    """

    def __init__(self, max_expansion: int, temp_dir: Path | None = None) -> None:
        self.max_expansion = max_expansion
        self.expanded = 0
        self._dir = Path(tempfile.mkdtemp(prefix="dumpguard-", dir=temp_dir))
        self._count = 0

    def new_file(self) -> Path:
        self._count += 1
        return self._dir / f"member-{self._count}"

    def write(self, display_path: str, stream: BinaryIO, depth: int) -> Blob:
        """Copy `stream` to a new temporary file, stopping at the expansion limit."""
        target = self.new_file()
        try:
            written = self._copy(display_path, stream, target)
        except BaseException:
            # Nothing half-written survives: a decoder error, the limit or an interrupt.
            target.unlink(missing_ok=True)
            raise
        return Blob(display_path=display_path, file=target, size=written, depth=depth)

    def _copy(self, display_path: str, stream: BinaryIO, target: Path) -> int:
        written = 0
        with target.open("wb") as out:
            while block := stream.read(COPY_BLOCK):
                written += len(block)
                self.expanded += len(block)
                if self.expanded > self.max_expansion:
                    raise ExpansionLimitError(
                        f"{display_path}: expands past the limit of {self.max_expansion} bytes "
                        "(decompression bomb guard; raise --max-expansion to scan it)"
                    )
                out.write(block)
        return written

    def release(self, blob: Blob) -> None:
        """Remove a spooled member once it has been scanned (keeps disk use bounded)."""
        if blob.file.parent == self._dir:
            blob.file.unlink(missing_ok=True)

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Container(abc.ABC):
    """A container format (compression or archive), recognised by magic bytes.

    `unpack` yields each member as a spooled `Blob`, or a `Skipped` for a member
    that could not be read; it raises `SourceError` when the container itself is
    unreadable.  Members are yielded one at a time so the caller can scan and
    release each before the next is spooled.
    """

    name: ClassVar[str]

    @abc.abstractmethod
    def probe(self, head: bytes) -> bool:
        """True when `head` (the first bytes of a blob) starts this container."""

    @abc.abstractmethod
    def unpack(self, blob: Blob, spool: Spool) -> Iterator[Blob | Skipped]:
        """Yield the members of `blob`."""
