"""zip: every file member the zipfile module can decode.

Members that cannot be scanned (encrypted, an unsupported method, a CRC
mismatch, damaged data) are reported one by one and the other members still
come out; a zip whose central directory is unreadable is an error as a whole.
"""

from __future__ import annotations

import lzma
import stat
import zipfile
import zlib
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

# APPNOTE 4.3.7 local file header, 4.3.16 end of central directory record.
_LOCAL_HEADER = b"PK\x03\x04"
_EMPTY_ARCHIVE = b"PK\x05\x06"
_ENCRYPTED_FLAG = 0x0001  # APPNOTE 4.4.4 general purpose bit 0
_UNIX_CREATOR = 3  # APPNOTE 4.4.2: external attributes hold st_mode << 16
_SUPPORTED_METHODS = frozenset(
    {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
)
# What zipfile and its decoders raise for bad member data.  bz2 reports bad
# data as OSError; RuntimeError is zipfile's "password required".
_MEMBER_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
    ValueError,
)
# What zipfile raises while reading the central directory of a damaged file.
_DIRECTORY_ERRORS = (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError)


def _reason(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):  # its message quotes the bad byte
        return "member name is not valid UTF-8"
    return first_line(error)


def _describe(error: Exception) -> str:
    if isinstance(error, EOFError):
        return "truncated zip member"
    return f"corrupt zip member: {_reason(error)}"


def _describe_member_error(error: Exception) -> str | None:
    return _describe(error) if isinstance(error, _MEMBER_ERRORS) else None


def is_symlink(info: zipfile.ZipInfo) -> bool:
    return info.create_system == _UNIX_CREATOR and stat.S_ISLNK(info.external_attr >> 16)


def _refusal(info: zipfile.ZipInfo) -> str | None:
    """Why a member is not scanned, decided from its directory entry alone."""
    if info.flag_bits & _ENCRYPTED_FLAG:
        return "encrypted zip member, not scanned"
    if info.compress_type not in _SUPPORTED_METHODS:
        return f"unsupported zip compression method {info.compress_type}"
    return None


class Zip(Container):
    name: ClassVar[str] = "zip"

    def probe(self, head: bytes) -> bool:
        return head.startswith((_LOCAL_HEADER, _EMPTY_ARCHIVE))

    def unpack(self, blob: Blob, spool: Spool) -> Iterator[Blob | Skipped]:
        with BoundedReads(blob.file, blob.display_path) as stream:
            try:
                archive = zipfile.ZipFile(stream)
            except _DIRECTORY_ERRORS as error:
                raise SourceError(
                    f"{blob.display_path}: unreadable zip central directory: {_reason(error)}"
                ) from None
            with archive:
                for info in archive.infolist():
                    if not info.is_dir() and not is_symlink(info):
                        yield self._spool_member(archive, info, blob, spool)

    def _spool_member(
        self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, blob: Blob, spool: Spool
    ) -> Blob | Skipped:
        display_path = blob.member_path(display_name(info.filename))
        refusal = _refusal(info)
        if refusal is not None:
            return Skipped(display_path, self.name, info.file_size, refusal)
        try:
            with archive.open(info) as contents:
                return spool_stream(
                    spool, display_path, contents, blob.depth + 1, _describe_member_error
                )
        except DecodeError as error:
            return Skipped(display_path, self.name, info.file_size, error.reason)
        except _MEMBER_ERRORS as error:
            return Skipped(display_path, self.name, info.file_size, _describe(error))
