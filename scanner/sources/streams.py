"""What the containers share: spooling a decoded stream, compression layers, bounded reads.

A decoder fails in the middle of a stream (a truncated or corrupt input), after
part of its output is already spooled.  `spool_stream` turns that failure into
one `DecodeError` line that names the path and never quotes the input's bytes,
and removes the partial file, so no half-decoded member is ever scanned.
"""

from __future__ import annotations

import abc
import contextlib
import io
import os
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, BinaryIO, ClassVar, Protocol

from scanner.config import MiB
from scanner.errors import SourceError
from scanner.sources.base import COPY_BLOCK, Blob, Container, Skipped, Spool

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

# Archive headers (pax records, GNU long names, a zip central directory) are
# read whole by tarfile and zipfile, and zipfile keeps an object per entry
# (~0.5 KB): 16 MiB of central directory is ~300k members, more than any
# honest dump archive holds, and bounds that memory.
MAX_HEADER_READ = 16 * MiB

# RFC 8878 section 3.1.2 / LZ4 frame format: 0x184D2A50..0x184D2A5F, then a
# 4-byte little-endian length of data to skip.  zstd and lz4 share them.
SKIPPABLE_MAGIC_HIGH = b"\x2a\x4d\x18"
SKIPPABLE_HEADER = 8

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")

Describe = Callable[[Exception], str | None]


class DecodeError(SourceError):
    """A stream could not be decoded; `reason` is the message without the path."""

    def __init__(self, display_path: str, reason: str) -> None:
        super().__init__(f"{display_path}: {reason}")
        self.reason = reason


class Readable(Protocol):
    """The part of a decoded file object the spool needs."""

    def read(self, size: int, /) -> bytes: ...

    def close(self) -> None: ...


class _FailureLatch(io.RawIOBase):
    """Reads `stream`; a decode error it recognises ends the stream and is kept."""

    def __init__(self, stream: Readable, describe: Describe) -> None:
        super().__init__()
        self._stream = stream
        self._describe = describe
        self.failure: str | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        try:
            block = self._stream.read(len(view))
        except Exception as error:
            reason = self._describe(error)
            if reason is None:
                raise
            self.failure = reason
            return 0
        view[: len(block)] = block
        return len(block)


def spool_stream(
    spool: Spool, display_path: str, stream: Readable, depth: int, describe: Describe
) -> Blob:
    """Spool `stream` as one member; an error `describe` names becomes a DecodeError.

    `describe(error)` returns the one-line reason for an error of the decoder
    (None for anything else, which propagates unchanged).  ExpansionLimitError
    from the spool propagates; the spool has already removed the partial file.
    """
    latch = _FailureLatch(stream, describe)
    try:
        blob = spool.write(display_path, io.BufferedReader(latch, COPY_BLOCK), depth)
    except OSError as error:
        raise DecodeError(display_path, f"I/O error: {error.strerror or error}") from None
    if latch.failure is not None:
        spool.release(blob)
        raise DecodeError(display_path, latch.failure)
    return blob


def first_line(error: Exception) -> str:
    """An exception's message as one line (library messages never hold input bytes)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def display_name(name: str) -> str:
    """A member or file name fit for a one-line report.

    Undecodable bytes (kept as surrogates by tarfile and os) become U+FFFD and
    control characters "?", so a hostile name cannot break a report line.
    """
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return _CONTROL_CHARACTERS.sub("?", text)


def first_frame_magic(head: bytes) -> bytes:
    """The 4-byte magic of the first frame in `head` that is not a skippable frame."""
    offset = 0
    while head[offset + 1 : offset + 4] == SKIPPABLE_MAGIC_HIGH and head[offset] >> 4 == 5:
        skip_size = int.from_bytes(head[offset + 4 : offset + 8], "little")
        offset += SKIPPABLE_HEADER + skip_size
        if offset >= len(head):
            return b""
    return head[offset : offset + 4]


class CompressionLayer(Container):
    """A compression format: one decoded stream that keeps the blob's display path.

    Subclasses name their magic, open a streaming decoder over the compressed
    file, and list the exceptions their decoder raises for bad data.  EOFError
    always means the input ended inside a stream (that is how the stdlib and
    lz4 decoders report truncation).
    """

    magic: ClassVar[bytes]
    codec_errors: ClassVar[tuple[type[Exception], ...]]

    def probe(self, head: bytes) -> bool:
        return head.startswith(self.magic)

    @abc.abstractmethod
    def open_decoder(self, compressed: BinaryIO) -> Readable:
        """A reader of the decoded bytes; it must read `compressed` in bounded steps."""

    def check_structure(self, compressed: BinaryIO, display_path: str) -> None:
        """Raise DecodeError for damage the decoder would not report (default: none)."""

    def detail(self, error: Exception) -> str:
        return first_line(error)

    def describe(self, error: Exception) -> str | None:
        if isinstance(error, EOFError):
            return f"truncated {self.name} stream"
        if isinstance(error, self.codec_errors):
            return f"corrupt {self.name} stream: {self.detail(error)}"
        return None

    def unpack(self, blob: Blob, spool: Spool) -> Iterator[Blob | Skipped]:
        with blob.file.open("rb") as compressed:
            self.check_structure(compressed, blob.display_path)
            compressed.seek(0)
            with contextlib.closing(self.open_decoder(compressed)) as decoded:
                yield spool_stream(spool, blob.display_path, decoded, blob.depth + 1, self.describe)


class BoundedReads(io.FileIO):
    """A file whose single reads are capped, for tarfile and zipfile.

    Both read some headers whole with a length taken from the archive (pax
    records, GNU long names, the zip central directory); the cap turns a
    hostile length into a SourceError instead of a giant allocation.
    """

    def __init__(self, path: os.PathLike[str], display_path: str) -> None:
        super().__init__(path, "r")
        self._display_path = display_path
        self._size = os.fstat(self.fileno()).st_size

    def read(self, size: int | None = -1, /) -> bytes:
        wanted = self._size - self.tell() if size is None or size < 0 else size
        if wanted > MAX_HEADER_READ:
            raise SourceError(
                f"{self._display_path}: archive header of {wanted} bytes at offset "
                f"{self.tell()} exceeds the {MAX_HEADER_READ} byte limit"
            )
        return super().read(size)
