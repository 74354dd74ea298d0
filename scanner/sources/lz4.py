"""LZ4 frame format: every frame of a multi-frame file, skippable frames ignored."""

from __future__ import annotations

from typing import BinaryIO, ClassVar

import lz4.frame

from scanner.sources.streams import CompressionLayer, Readable, first_frame_magic


class Lz4(CompressionLayer):
    name: ClassVar[str] = "lz4"
    # lz4 frame format 1.6, "Magic Number": 0x184D2204 little-endian.
    magic: ClassVar[bytes] = b"\x04\x22\x4d\x18"
    # The lz4 binding reports bad frames as RuntimeError("LZ4F_decompress failed ...").
    codec_errors: ClassVar[tuple[type[Exception], ...]] = (RuntimeError, ValueError)

    def probe(self, head: bytes) -> bool:
        return first_frame_magic(head) == self.magic

    def open_decoder(self, compressed: BinaryIO) -> Readable:
        decoder: Readable = lz4.frame.LZ4FrameFile(compressed, "rb")
        return decoder
