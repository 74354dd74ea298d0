"""gzip (RFC 1952): every member of a multi-member file, decoded as one stream."""

from __future__ import annotations

import gzip as _gzip
import re
import zlib
from typing import BinaryIO, ClassVar

from scanner.sources.streams import CompressionLayer, Readable, first_line

_QUOTED_VALUES = re.compile(r" \(| 0x")


class Gzip(CompressionLayer):
    name: ClassVar[str] = "gzip"
    # ID1 ID2 and CM=8 (deflate), the only method RFC 1952 defines.
    magic: ClassVar[bytes] = b"\x1f\x8b\x08"
    codec_errors: ClassVar[tuple[type[Exception], ...]] = (_gzip.BadGzipFile, zlib.error)

    def open_decoder(self, compressed: BinaryIO) -> Readable:
        # GzipFile reads member after member and decodes in bounded steps.
        return _gzip.GzipFile(fileobj=compressed, mode="rb")

    def detail(self, error: Exception) -> str:
        # "Not a gzipped file (b'..')" quotes input bytes and "CRC check failed
        # 0x.. != 0x.." a checksum of the decoded data: keep only the words.
        return _QUOTED_VALUES.split(first_line(error), maxsplit=1)[0]
