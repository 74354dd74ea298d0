"""bzip2: every stream of a multi-stream file (pbzip2, `cat a.bz2 b.bz2`)."""

from __future__ import annotations

import bz2
from typing import BinaryIO, ClassVar

from scanner.sources.streams import CompressionLayer, Readable

# "BZh", the block size digit 1-9, then the first block's magic (BCD pi,
# 0x314159265359) or, for an empty stream, the end-of-stream magic (BCD
# sqrt(pi), 0x177245385090): ten fixed bytes, so text starting "BZh" is not
# taken for a compressed stream.
_BLOCK_SIZES = b"123456789"
_FIRST_MARKERS = (b"\x31\x41\x59\x26\x53\x59", b"\x17\x72\x45\x38\x50\x90")


class Bzip2(CompressionLayer):
    name: ClassVar[str] = "bzip2"
    magic: ClassVar[bytes] = b"BZh"
    # The bz2 module reports bad data as OSError("Invalid data stream").
    codec_errors: ClassVar[tuple[type[Exception], ...]] = (OSError, ValueError)

    def probe(self, head: bytes) -> bool:
        return (
            len(head) >= 10
            and head.startswith(self.magic)
            and head[3] in _BLOCK_SIZES
            and head[4:10] in _FIRST_MARKERS
        )

    def open_decoder(self, compressed: BinaryIO) -> Readable:
        return bz2.BZ2File(compressed, "rb")
