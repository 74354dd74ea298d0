"""Zstandard (RFC 8878): every frame of a multi-frame file, skippable frames ignored.

The zstandard stream reader stops quietly where a cut file ends, so a
truncated frame would pass for a short, clean one.  Before decoding, the frame
and block headers are walked (3 bytes per block, block bodies seeked over) to
check that every frame is complete.
"""

from __future__ import annotations

import os
from typing import BinaryIO, ClassVar

import zstandard

from scanner.sources.streams import (
    SKIPPABLE_HEADER,
    SKIPPABLE_MAGIC_HIGH,
    CompressionLayer,
    DecodeError,
    Readable,
    first_frame_magic,
)

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ERROR_PREFIX = "zstd decompress error: "
# RFC 8878 3.1.1.1: Dictionary_ID and Frame_Content_Size field sizes by flag value.
_DICTIONARY_ID_SIZES = (0, 1, 2, 4)
_CONTENT_SIZE_SIZES = (0, 2, 4, 8)
_BLOCK_HEADER = 3
_RLE_BLOCK = 1
_RESERVED_BLOCK = 3
_BLOCK_MAXIMUM_SIZE = 128 * 1024  # RFC 8878 3.1.1.2.4
_CHECKSUM_SIZE = 4


class _TruncatedFrameError(Exception):
    """The file ended inside a frame."""


class _CorruptFrameError(Exception):
    """A frame header breaks RFC 8878."""


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise _TruncatedFrameError
    return data


def _frame_header_size(descriptor: int) -> int:
    """Bytes after the Frame_Header_Descriptor (RFC 8878 3.1.1.1)."""
    if descriptor & 0x08:
        raise _CorruptFrameError("reserved bit set in frame header")
    single_segment = descriptor >> 5 & 1
    window_size = 0 if single_segment else 1
    content_size = _CONTENT_SIZE_SIZES[descriptor >> 6] or single_segment
    return window_size + _DICTIONARY_ID_SIZES[descriptor & 0x03] + content_size


def _skip_blocks(stream: BinaryIO, position: int) -> int:
    """Offset after the last block of the frame whose first block starts at `position`."""
    while True:
        stream.seek(position)
        header = int.from_bytes(_read_exact(stream, _BLOCK_HEADER), "little")
        last_block, block_type, block_size = header & 1, header >> 1 & 0x03, header >> 3
        if block_type == _RESERVED_BLOCK:
            raise _CorruptFrameError(f"reserved block type at offset {position}")
        if block_size > _BLOCK_MAXIMUM_SIZE:
            raise _CorruptFrameError(f"block larger than 128 KiB at offset {position}")
        position += _BLOCK_HEADER + (1 if block_type == _RLE_BLOCK else block_size)
        if last_block:
            return position


def _frame_end(stream: BinaryIO, start: int) -> int:
    """Offset just after the frame (zstd or skippable) that starts at `start`."""
    stream.seek(start)
    magic = _read_exact(stream, 4)
    if magic[1:] == SKIPPABLE_MAGIC_HIGH and magic[0] >> 4 == 5:
        return start + SKIPPABLE_HEADER + int.from_bytes(_read_exact(stream, 4), "little")
    if magic != _ZSTD_MAGIC:
        raise _CorruptFrameError(f"unknown frame magic at offset {start}")
    descriptor = _read_exact(stream, 1)[0]
    end = _skip_blocks(stream, start + 5 + _frame_header_size(descriptor))
    return end + (_CHECKSUM_SIZE if descriptor & 0x04 else 0)


class Zstd(CompressionLayer):
    name: ClassVar[str] = "zstd"
    magic: ClassVar[bytes] = _ZSTD_MAGIC
    codec_errors: ClassVar[tuple[type[Exception], ...]] = (zstandard.ZstdError,)

    def probe(self, head: bytes) -> bool:
        return first_frame_magic(head) == _ZSTD_MAGIC

    def check_structure(self, compressed: BinaryIO, display_path: str) -> None:
        file_size = os.fstat(compressed.fileno()).st_size
        offset = 0
        try:
            while offset < file_size:
                offset = _frame_end(compressed, offset)
        except _CorruptFrameError as error:
            raise DecodeError(display_path, f"corrupt zstd frame: {error}") from None
        except _TruncatedFrameError:
            offset = file_size + 1
        if offset > file_size:
            raise DecodeError(display_path, "truncated zstd stream")

    def open_decoder(self, compressed: BinaryIO) -> Readable:
        decompressor = zstandard.ZstdDecompressor()
        return decompressor.stream_reader(compressed, read_across_frames=True)

    def detail(self, error: Exception) -> str:
        return super().detail(error).removeprefix(_ERROR_PREFIX)
