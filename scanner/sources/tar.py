"""tar (POSIX ustar, GNU, pax and old v7): regular file members only.

Directories, links, devices and fifos carry no bytes to scan and are passed
over silently; a symlink member is never followed.  The archive is opened with
no compression (mode "r:"): compression layers are separate containers, so
their output goes through the spool and its expansion limit.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from typing import ClassVar

from scanner.errors import SourceError
from scanner.sources.base import Blob, Container, Skipped, Spool
from scanner.sources.streams import (
    BoundedReads,
    DecodeError,
    display_name,
    first_line,
    spool_stream,
)

_BLOCK = tarfile.BLOCKSIZE
# POSIX.1-1988 header layout: magic "ustar" at 257 (GNU writes "ustar  \0",
# POSIX "ustar\0" "00"); the checksum, 8 octal bytes at 148, is the sum of all
# 512 header bytes with the checksum field itself counted as spaces.
_USTAR_MAGIC_OFFSET = 257
_CHECKSUM = slice(148, 156)
_OCTAL_DIGITS = frozenset(b"01234567")


def _stored_checksum(header: bytes) -> int | None:
    digits = header[_CHECKSUM].replace(b"\x00", b" ").strip()
    if not digits or not set(digits) <= _OCTAL_DIGITS:
        return None
    return int(digits, 8)


def _is_v7_header(head: bytes) -> bool:
    """A pre-POSIX header: a name, and a checksum that matches (no magic to go by).

    Some old tars summed the bytes as signed chars; tarfile accepts both sums.
    """
    if len(head) < _BLOCK or head[0] == 0:
        return False
    summed = head[: _CHECKSUM.start] + b" " * 8 + head[_CHECKSUM.stop : _BLOCK]
    unsigned_sum = sum(summed)
    signed_sum = unsigned_sum - 256 * sum(1 for byte in summed if byte >= 0x80)
    return _stored_checksum(head) in {unsigned_sum, signed_sum}


def _describe_member_error(error: Exception) -> str | None:
    if isinstance(error, tarfile.ReadError) and "unexpected end" in str(error):
        return "truncated tar member"
    if isinstance(error, tarfile.TarError | OSError):
        return f"unreadable tar member: {first_line(error)}"
    return None


def _check_end(archive: tarfile.TarFile, stream: BoundedReads, display_path: str) -> None:
    """Fail when iteration stopped at a bad header rather than at the end.

    tarfile treats an invalid header after the first as the end of the archive;
    the members behind it would go unscanned without a word.  A clean end is
    end of file or the zero block of the end-of-archive marker.
    """
    stream.seek(archive.offset)
    if stream.read(_BLOCK).strip(b"\x00"):
        raise SourceError(f"{display_path}: corrupt tar header at offset {archive.offset}")


class Tar(Container):
    name: ClassVar[str] = "tar"

    def probe(self, head: bytes) -> bool:
        ustar = head[_USTAR_MAGIC_OFFSET : _USTAR_MAGIC_OFFSET + 5] == b"ustar"
        return ustar or _is_v7_header(head)

    def unpack(self, blob: Blob, spool: Spool) -> Iterator[Blob | Skipped]:
        with BoundedReads(blob.file, blob.display_path) as stream:
            try:
                with tarfile.open(fileobj=stream, mode="r:") as archive:
                    yield from self._members(archive, blob, spool)
                    _check_end(archive, stream, blob.display_path)
            except tarfile.TarError as error:
                raise SourceError(
                    f"{blob.display_path}: unreadable tar archive: {first_line(error)}"
                ) from None

    def _members(
        self, archive: tarfile.TarFile, blob: Blob, spool: Spool
    ) -> Iterator[Blob | Skipped]:
        while (member := archive.next()) is not None:
            # tarfile keeps every header it has read in `members` (undocumented,
            # so untyped); an archive of millions of empty members would fill
            # memory, and nothing here looks back.
            archive.members.clear()  # type: ignore[attr-defined]
            if member.isreg():
                yield self._spool_member(archive, member, blob, spool)

    def _spool_member(
        self, archive: tarfile.TarFile, member: tarfile.TarInfo, blob: Blob, spool: Spool
    ) -> Blob | Skipped:
        display_path = blob.member_path(display_name(member.name))
        contents = archive.extractfile(member)
        if contents is None:  # not reached for regular members; tarfile's type allows it
            return Skipped(display_path, self.name, member.size, "tar member has no data")
        with contents:
            try:
                return spool_stream(
                    spool, display_path, contents, blob.depth + 1, _describe_member_error
                )
            except DecodeError as error:
                return Skipped(display_path, self.name, member.size, error.reason)
