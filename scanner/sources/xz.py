"""xz: every stream of a multi-stream file."""

from __future__ import annotations

import lzma
from typing import BinaryIO, ClassVar

from scanner.sources.streams import CompressionLayer, Readable


class Xz(CompressionLayer):
    name: ClassVar[str] = "xz"
    # xz file format 1.0.4, section 2.1.1.1: 0xFD "7zXZ" 0x00.
    magic: ClassVar[bytes] = b"\xfd7zXZ\x00"
    codec_errors: ClassVar[tuple[type[Exception], ...]] = (lzma.LZMAError,)

    def open_decoder(self, compressed: BinaryIO) -> Readable:
        return lzma.LZMAFile(compressed, "rb", format=lzma.FORMAT_XZ)
