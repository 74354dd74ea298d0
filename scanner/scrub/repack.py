"""Writing a container back with the same codec, its members replaced by scrubbed copies.

One Repacker per container name of scanner.sources, registered explicitly.
`members` holds one file per member, in the order the container's `unpack`
yields them (each a scrubbed copy, or the member as it was spooled):

* gzip, zstd, xz, bzip2, lz4: one member, compressed again with the same
  codec (gzip keeps the original header's name and time; multi-member or
  multi-frame inputs come back as one member or frame of the same codec);
* tar: every header is written back as it was (names, modes, owners, times,
  pax and GNU records); regular members take their replacement, whose size is
  the same because scrubbing keeps lengths;
* zip: every entry keeps its name, time, attributes, comment and compression
  method; directory and symlink entries are copied.

A container with no Repacker (an apport report) cannot be scrubbed: scrub
stops with an error rather than write something that is not what came in.
"""

from __future__ import annotations

import abc
import bz2
import contextlib
import gzip
import lzma
import shutil
import struct
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO, ClassVar, Protocol

import lz4.frame
import zstandard

from scanner.errors import ScrubError
from scanner.sources.zip import is_symlink

COPY_BLOCK = 1024 * 1024


class Repacker(abc.ABC):
    name: ClassVar[str]

    @abc.abstractmethod
    def repack(self, original: Path, members: Sequence[Path], target: BinaryIO) -> None:
        """Write `original`'s container with `members` as its members to `target`."""


class Encoder(Protocol):
    """A compressing writer; closing it finishes the stream but leaves the target open."""

    def write(self, data: bytes, /) -> int: ...

    def close(self) -> None: ...


class _StreamRepacker(Repacker):
    def repack(self, original: Path, members: Sequence[Path], target: BinaryIO) -> None:
        if len(members) != 1:
            raise ScrubError(f"{self.name} stream with {len(members)} members")
        encoded = self.encoder(original, target)
        with members[0].open("rb") as source, contextlib.closing(encoded):
            shutil.copyfileobj(source, encoded, COPY_BLOCK)

    @abc.abstractmethod
    def encoder(self, original: Path, target: BinaryIO) -> Encoder:
        """A writer that compresses into `target` (closing it leaves `target` open)."""


class GzipRepacker(_StreamRepacker):
    name = "gzip"

    def encoder(self, original: Path, target: BinaryIO) -> Encoder:
        name, mtime = _gzip_header(original)
        return gzip.GzipFile(filename=name, mode="wb", fileobj=target, mtime=mtime)


def _gzip_header(path: Path) -> tuple[str, int]:
    """RFC 1952 2.3: MTIME at bytes 4-7; FNAME (flag 0x08) after FEXTRA (flag 0x04)."""
    with path.open("rb") as stream:
        head = stream.read(64 * 1024)
    flags, mtime = head[3], struct.unpack_from("<I", head, 4)[0]
    position = 10
    if flags & 0x04 and len(head) >= 12:
        position += 2 + struct.unpack_from("<H", head, 10)[0]
    name = ""
    if flags & 0x08:
        end = head.find(b"\x00", position)
        if end > 0:
            name = head[position:end].decode("latin-1")
    return name, mtime


class ZstdRepacker(_StreamRepacker):
    name = "zstd"

    def encoder(self, original: Path, target: BinaryIO) -> Encoder:
        compressor = zstandard.ZstdCompressor(level=3, write_checksum=True)
        writer: Encoder = compressor.stream_writer(target, closefd=False)
        return writer


class XzRepacker(_StreamRepacker):
    name = "xz"

    def encoder(self, original: Path, target: BinaryIO) -> Encoder:
        return lzma.LZMAFile(target, "wb", format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64)


class Bzip2Repacker(_StreamRepacker):
    name = "bzip2"

    def encoder(self, original: Path, target: BinaryIO) -> Encoder:
        return bz2.BZ2File(target, "wb")


class Lz4Repacker(_StreamRepacker):
    name = "lz4"

    def encoder(self, original: Path, target: BinaryIO) -> Encoder:
        writer: Encoder = lz4.frame.LZ4FrameFile(target, "wb")
        return writer


class TarRepacker(Repacker):
    name = "tar"

    def repack(self, original: Path, members: Sequence[Path], target: BinaryIO) -> None:
        replacements = iter(members)
        with (
            tarfile.open(original, mode="r:") as source,
            tarfile.open(fileobj=target, mode="w:", format=source.format) as output,
        ):
            output.pax_headers = dict(source.pax_headers)
            while (member := source.next()) is not None:
                if not member.isreg():
                    output.addfile(member)
                    continue
                replacement = next(replacements, None)
                if replacement is None or replacement.stat().st_size != member.size:
                    raise ScrubError(f"tar member {member.name!r} has no same-size replacement")
                with replacement.open("rb") as data:
                    output.addfile(member, data)


class ZipRepacker(Repacker):
    name = "zip"

    def repack(self, original: Path, members: Sequence[Path], target: BinaryIO) -> None:
        replacements = iter(members)
        with (
            zipfile.ZipFile(original) as source,
            zipfile.ZipFile(target, "w", allowZip64=True) as output,
        ):
            output.comment = source.comment
            for info in source.infolist():
                entry = _copied_info(info)
                if info.is_dir() or is_symlink(info):
                    output.writestr(entry, source.read(info))
                    continue
                replacement = next(replacements, None)
                if replacement is None:
                    raise ScrubError(f"zip member {info.filename!r} has no replacement")
                with replacement.open("rb") as data, output.open(entry, "w") as written:
                    shutil.copyfileobj(data, written, COPY_BLOCK)


def _copied_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(info.filename, info.date_time)
    entry.compress_type = info.compress_type
    entry.comment = info.comment
    entry.extra = _without_zip64(info.extra)
    entry.create_system = info.create_system
    entry.external_attr = info.external_attr
    entry.internal_attr = info.internal_attr
    entry.file_size = info.file_size  # lets zipfile pick ZIP64 up front for large members
    return entry


def _without_zip64(extra: bytes) -> bytes:
    """APPNOTE 4.5: extra fields less the Zip64 one (0x0001), which zipfile writes anew."""
    kept, position = bytearray(), 0
    while position + 4 <= len(extra):
        header_id, size = struct.unpack_from("<HH", extra, position)
        field_end = position + 4 + size
        if header_id != 0x0001:
            kept += extra[position:field_end]
        position = field_end
    return bytes(kept)


REPACKERS: Mapping[str, Repacker] = {
    repacker.name: repacker
    for repacker in (
        GzipRepacker(),
        ZstdRepacker(),
        XzRepacker(),
        Bzip2Repacker(),
        Lz4Repacker(),
        TarRepacker(),
        ZipRepacker(),
    )
}
