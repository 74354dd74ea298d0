"""Ubuntu apport crash reports (/var/crash/*.crash): the compressed binary fields, decoded.

Layout (apport's problem_report.py, ProblemReport.write and load): RFC 822-style
"Key: value" lines with case-sensitive keys, "ProblemType" first; a value that
spans lines continues on lines that start with one space.  A binary value (the
ELF core in "CoreDump", sometimes other attached files) is written as
"Key: base64" and then continuation lines, each line the base64 of its own
piece of one compressed stream (so "=" padding may end any line):

* current apport: a gzip member: the first line holds the 10-byte header (flags
  FNAME, the key as the name), the next lines raw deflate blocks, the last line
  the final block and the CRC-32/ISIZE trailer;
* before gzip (legacy apport): a zlib stream (RFC 1950) without gzip header.

zlib's automatic header detection takes both and checks either trailer.  Each
base64 field is decoded as it is read, line piece by line piece (lines are read
in bounded pieces: a hostile file's endless line costs no memory), into a
spooled member named ``report.crash!Key`` (``report.crash!CoreDump``), under the
scan's expansion limit.  Every base64 field is yielded, not only CoreDump:
apport attaches only files it considered worth the space, and any may hold key
material.  The text fields follow as one more member, ``report.crash!fields``
(every text line, in order, except the ProblemType line: it holds one word, and
without it the member is not taken for a report again).  A report with no
base64 field yields no member, so the report is scanned as it is.

Errors: a line that is neither a continuation nor "Key:..." (apport's
MalformedProblemReport), bad base64, a corrupt or cut compressed stream, or
data after its end is one DecodeError naming the report and the field.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, ClassVar

from scanner.sources.base import Blob, Container, Skipped, Spool
from scanner.sources.streams import DecodeError, display_name, first_line, spool_stream

PROBLEM_TYPE = b"ProblemType: "
BASE64_VALUE = b"base64"
CONTINUATION = b" "
# Lines are read in pieces of at most this many bytes; apport's base64 lines
# hold one deflate output block (1.4 MB of text at most for a 1 MiB input block).
PIECE_SIZE = 1024 * 1024
# zlib: 32 + 15 detects a gzip or a zlib header and checks the matching trailer.
AUTO_HEADER_WBITS = 32 + zlib.MAX_WBITS
# apport keys: letters, digits, ".", "_", "-" (ProblemReport.__setitem__).
KEY_LINE = re.compile(rb"([A-Za-z0-9._-]+):")
FIELDS_MEMBER = "fields"


class ReportFormatError(ValueError):
    """The report breaks the problem_report format (apport's MalformedProblemReport)."""


class TrailingDataError(ValueError):
    """Bytes follow the end of a binary field's compressed stream."""


@dataclass(frozen=True)
class Piece:
    """Up to PIECE_SIZE bytes of one line, from file offset `offset`."""

    data: bytes = field(repr=False)
    offset: int
    starts_line: bool

    @property
    def starts_key_line(self) -> bool:
        return self.starts_line and not self.data.startswith(CONTINUATION)


class LinePieces:
    """The report's lines as bounded pieces, with one piece of look-ahead."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._offset = 0
        self._at_line_start = True
        self._peeked: Piece | None = None

    def peek(self) -> Piece | None:
        if self._peeked is None:
            data = self._stream.readline(PIECE_SIZE)
            if not data:
                return None
            self._peeked = Piece(data, self._offset, self._at_line_start)
            self._offset += len(data)
            self._at_line_start = data.endswith(b"\n")
        return self._peeked

    def take(self) -> Piece | None:
        piece = self.peek()
        self._peeked = None
        return piece


def key_of(piece: Piece) -> tuple[str, bool]:
    """The key of a key line, and whether its value is "base64" (a binary field)."""
    match = KEY_LINE.match(piece.data)
    if match is None:
        raise ReportFormatError(
            f"the line at offset {piece.offset} is neither 'Key: value' nor a continuation"
        )
    value = piece.data[match.end() :].strip()
    return match.group(1).decode("ascii"), value == BASE64_VALUE


def binary_fields(pieces: LinePieces, display_path: str) -> Iterator[str]:
    """The key of each base64 field, in order; the caller reads its value from `pieces`."""
    while (piece := pieces.take()) is not None:
        if not piece.starts_key_line:
            continue
        try:
            key, is_binary = key_of(piece)
        except ReportFormatError as error:
            raise DecodeError(display_path, f"malformed crash report: {error}") from None
        if is_binary:
            yield key


class Base64Field:
    """A binary field's value, decoded: base64 line by line, then inflated.

    `read(size)` returns at most `size` bytes (zlib's max_length), so a
    compression bomb never sits in memory; the spool bounds the total.
    """

    def __init__(self, pieces: LinePieces) -> None:
        self._pieces = pieces
        self._carry = b""  # base64 characters of a line cut between pieces, fewer than 4
        self._inflate = zlib.decompressobj(AUTO_HEADER_WBITS)
        self._pending = b""  # compressed bytes zlib has not taken yet

    def read(self, size: int, /) -> bytes:
        size = max(size, 1)  # zlib takes a max_length of 0 as "no limit"
        while True:
            if self._pending:
                output = self._inflate.decompress(self._pending, size)
                self._pending = self._inflate.unconsumed_tail
                if output:
                    return output
            compressed = self._next_compressed()
            if not compressed:
                return self._finish()
            if self._inflate.eof:
                raise TrailingDataError("data after the end of the compressed stream")
            self._pending = compressed

    def _finish(self) -> bytes:
        if not self._inflate.eof:
            raise EOFError("the compressed stream ends early")
        if self._inflate.unused_data:
            raise TrailingDataError("data after the end of the compressed stream")
        return b""

    def _next_compressed(self) -> bytes:
        """The next decoded bytes of the field; b"" once its continuation lines end."""
        while True:
            piece = self._pieces.peek()
            if piece is None and self._carry:
                raise EOFError("the report ends inside a base64 line")
            if piece is None or piece.starts_key_line:
                if self._carry:
                    raise binascii.Error("a base64 line is not a multiple of 4 characters")
                return b""
            self._pieces.take()
            decoded = self._decode(piece)
            if decoded:
                return decoded

    def _decode(self, piece: Piece) -> bytes:
        text = piece.data[1:] if piece.starts_line else piece.data
        line_ends = text.endswith(b"\n")
        characters = self._carry + text.rstrip(b"\r\n")
        # Each line is padded on its own; a cut line is decoded 4 characters at a time.
        whole = len(characters) if line_ends else len(characters) // 4 * 4
        self._carry = characters[whole:]
        return base64.b64decode(characters[:whole], validate=True)

    def close(self) -> None:
        """Nothing to release: the report file belongs to the caller."""


class TextFields:
    """The report's text lines, less the first (ProblemType) line and every base64 field."""

    def __init__(self, pieces: LinePieces) -> None:
        self._pieces = pieces
        self._in_binary_field = False
        self._buffer = bytearray()
        pieces.take()  # the ProblemType line

    def read(self, size: int, /) -> bytes:
        while len(self._buffer) < size:
            piece = self._pieces.take()
            if piece is None:
                break
            if piece.starts_key_line:
                self._in_binary_field = key_of(piece)[1]
            if not self._in_binary_field:
                self._buffer += piece.data
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def close(self) -> None:
        """Nothing to release: the report file belongs to the caller."""


def describe(error: Exception) -> str | None:
    """The reason a field could not be decoded (the member path already names the field)."""
    if isinstance(error, EOFError):
        return f"truncated crash report field: {first_line(error)}"
    if isinstance(error, binascii.Error):
        return f"corrupt crash report field: bad base64 ({first_line(error)})"
    if isinstance(error, zlib.error | TrailingDataError):
        return f"corrupt crash report field: {first_line(error)}"
    if isinstance(error, ReportFormatError):
        return f"malformed crash report: {first_line(error)}"
    return None


class Apport(Container):
    name: ClassVar[str] = "apport"

    def probe(self, head: bytes) -> bool:
        return head.startswith(PROBLEM_TYPE)

    def unpack(self, blob: Blob, spool: Spool) -> Iterator[Blob | Skipped]:
        found_binary = False
        with blob.file.open("rb") as stream:
            pieces = LinePieces(stream)
            for key in binary_fields(pieces, blob.display_path):
                found_binary = True
                member = blob.member_path(display_name(key))
                yield spool_stream(spool, member, Base64Field(pieces), blob.depth + 1, describe)
        if found_binary:
            yield self._text_fields(blob, spool)

    def _text_fields(self, blob: Blob, spool: Spool) -> Blob:
        member = blob.member_path(FIELDS_MEMBER)
        with blob.file.open("rb") as stream:
            text = TextFields(LinePieces(stream))
            return spool_stream(spool, member, text, blob.depth + 1, describe)
