"""AVML memory images (microsoft/avml --compress): decoded into a LiME member.

Layout (avml src/image.rs, format version 2): a sequence of blocks, each
{u32 magic 0x4C4D5641 "AVML", u32 version 2, u64 start, u64 end (inclusive),
u64 padding} (LiME's range header with AVML's magic), the block's physical
bytes as one snappy framing-format stream (google/snappy framing_format.txt:
a stream identifier, then a chunk per 64 KiB, compressed (type 0x00) or,
where snappy saves less than 1/8, stored (type 0x01)), and a u64 of the
stream's length.  avml cuts each physical range into blocks of at most
16 MiB (MAX_BLOCK_SIZE) and leaves all-zero blocks out.

Decoding: volatility3's own AVML layer (volatility3.framework.layers.avml,
offline, through the memory-image reader's helpers) maps every chunk to its
physical address and decompresses it with the system libsnappy.  The layer
is read chunk by chunk (64 KiB decoded at a time) into a LiME file in the
spool: a lime_mem_range_header {u32 magic 0x4C694D45, u32 version 1, u64
start, u64 end (inclusive), u64 reserved 0} per run of chunks that continue
each other in physical memory (avml's blocks of one range join again), then
the run's bytes.  That member, ``image.avml!lime``, is read by the
memory-image reader through volatility3's LiME layer, so every region keeps
its physical address.  The spool counts the LiME bytes against the expansion
limit; the block headers give the decoded size first, so a bomb is refused
before volatility3 decodes any of it.

Before volatility3 sees the file, its frame headers are walked here
(`check_avml`), because the layer's own walk (AVMLLayer._load_segments)
never ends on a cut block or on a block whose chunks are all stored (see
`FrameWalk.check_block`), allocates whatever length a compressed chunk
claims, reads a block's stream whole, keeps a table row (~300 bytes) per
chunk and finds chunks by bisecting that table in file order.  The walk
refuses, in one line naming the block: such blocks, a chunk claiming more
than 64 KiB, a block stream over 64 MiB, more frames than the file's size
allows, blocks out of ascending physical order, and a stream that decodes
to another length than its header's.  The masked CRC-32C of each chunk is
not checked (volatility3 does not either).
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from scanner.config import MiB
from scanner.errors import ExpansionLimitError
from scanner.formats.memimage import (
    Segment,
    Volatility,
    add_file_layer,
    describe_error,
    iter_segments,
    volatility,
)
from scanner.sources.base import Blob, Container, Skipped, Spool
from scanner.sources.streams import DecodeError, Describe, spool_stream

# avml image.rs Header: the LiME header layout with AVML's magic and version 2.
AVML_HEADER = struct.Struct("<IIQQQ")
AVML_HEAD = struct.pack("<II", 0x4C4D5641, 2)
AVML_TRAILER = 8  # u64: the snappy stream's length
# LiME doc/README.md, "LiME Memory Range Header Version 1".
LIME_HEADER = struct.Struct("<IIQQQ")
LIME_MAGIC, LIME_VERSION = 0x4C694D45, 1
LIME_MEMBER = "lime"
# Snappy framing format (framing_format.txt 4.2, 4.3): {u8 type, u24 length} then, in a
# data chunk, a u32 masked CRC-32C and the data: compressed behind a varint preamble
# holding the decoded length, or stored; either decodes to at most 64 KiB.
SNAPPY_COMPRESSED, SNAPPY_UNCOMPRESSED, SNAPPY_LAST_UNSKIPPABLE = 0x00, 0x01, 0x7F
SNAPPY_FRAME_HEADER, SNAPPY_CRC, SNAPPY_VARINT_MAX = 4, 4, 5
SNAPPY_MAX_CHUNK = 0x10000
# volatility3's layer reads a block's stream window (end - start bytes) whole; avml's
# blocks are 16 MiB at most (older avml wrote a whole range as one block).
MAX_BLOCK_WINDOW = 64 * MiB
# volatility3's layer keeps a table row (~300 bytes) per chunk.  avml writes 64 KiB
# chunks, which snappy cannot encode in less than 3 KiB (its longest copy, 64 bytes,
# takes 3), and one short chunk per block: one frame per 2 KiB of file, and a
# thousand besides, is more than any image avml writes holds.
FILE_BYTES_PER_FRAME = 2048
FRAME_ALLOWANCE = 1024
NO_SNAPPY = (
    "AVML image not decoded: volatility3 reads AVML's snappy-compressed pages with the "
    "system snappy library (libsnappy.so.1, Debian package libsnappy1v5), which is not "
    "installed"
)


class AvmlError(Exception):
    """The frame walk refuses the image; the message names the block, not the file."""


@dataclass(frozen=True)
class AvmlLayout:
    """What the frame walk found: the decoded bytes and how many LiME ranges they make."""

    decoded_size: int
    lime_ranges: int

    @property
    def lime_size(self) -> int:
        return self.decoded_size + self.lime_ranges * LIME_HEADER.size


@dataclass(frozen=True)
class Block:
    """One AVML block header: where it is in the file, the physical bytes it holds."""

    offset: int
    start: int
    end: int  # inclusive, as in the header

    @property
    def label(self) -> str:
        return f"AVML block at 0x{self.offset:x} (physical 0x{self.start:x}-0x{self.end:x})"

    @property
    def data_start(self) -> int:
        return self.offset + AVML_HEADER.size


def check_avml(path: Path, size: int, display_path: str) -> AvmlLayout:
    """Walk the blocks as volatility3's AVMLLayer._load_segments does, on headers only.

    The layer's loop runs while block offset + 4 < the file's last byte and
    refuses a cut or foreign header itself; the walk stops there too.
    """
    try:
        with path.open("rb") as stream:
            return FrameWalk(stream, size).blocks()
    except AvmlError as error:
        raise DecodeError(display_path, str(error)) from None


class FrameWalk:
    """The walk's state: the file, the frames seen against their budget."""

    def __init__(self, stream: BinaryIO, size: int) -> None:
        self.stream = stream
        self.last_byte = size - 1  # the layer's FileLayer.maximum_address
        self.frame_budget = size // FILE_BYTES_PER_FRAME + FRAME_ALLOWANCE
        self.frames = 0

    def blocks(self) -> AvmlLayout:
        decoded = ranges = 0
        previous: Block | None = None
        offset = 0
        while offset + SNAPPY_FRAME_HEADER < self.last_byte:
            block = self.read_header(offset)
            if block is None:
                break
            check_order(block, previous)
            used = self.check_block(block)
            if previous is None or block.start != previous.end + 1:
                ranges += 1
            decoded += block.end - block.start + 1
            previous = block
            offset = block.data_start + used + AVML_TRAILER
        return AvmlLayout(decoded, ranges)

    def read_header(self, offset: int) -> Block | None:
        self.stream.seek(offset)
        header = self.stream.read(AVML_HEADER.size)
        if len(header) < AVML_HEADER.size or not header.startswith(AVML_HEAD):
            return None
        _, _, start, end, _ = AVML_HEADER.unpack(header)
        block = Block(offset, start, end)
        if end < start:
            raise AvmlError(f"{block.label} ends before it starts")
        return block

    def check_block(self, block: Block) -> int:
        """The stream bytes the block uses.

        The layer reads the block's stream as a window of end - start file
        bytes (never past the file's last byte) and walks its frames until
        they have decoded end - start + 1 bytes.  A stream longer than that
        window (every 64 KiB chunk stored, as avml stores incompressible
        memory) or cut short never gets there, and the layer's walk never
        ends; a stream that decodes past its block would overlap the next.
        """
        window = min(block.end - block.start, self.last_byte - block.data_start)
        if window > MAX_BLOCK_WINDOW:
            raise AvmlError(
                f"{block.label}: volatility3's AVML layer reads a block's 0x{window:x} "
                f"stream bytes at once; more than 0x{MAX_BLOCK_WINDOW:x} are not read "
                "(avml writes blocks of 16 MiB)"
            )
        wanted = block.end - block.start + 1
        used, decoded = self.walk_frames(block, window, wanted)
        if decoded != wanted:
            raise AvmlError(
                f"{block.label}: its snappy stream decodes to 0x{decoded:x} bytes, "
                f"its header says 0x{wanted:x}"
            )
        return used

    def walk_frames(self, block: Block, window: int, wanted: int) -> tuple[int, int]:
        """(stream bytes used, bytes decoded) once `wanted` bytes are decoded."""
        position = decoded = 0
        while decoded < wanted:
            if position + SNAPPY_FRAME_HEADER >= window:
                raise AvmlError(
                    f"{block.label} does not decode within the 0x{max(window, 0):x} "
                    "stream bytes volatility3's AVML layer reads for it (stored "
                    "uncompressed, or cut short); volatility3 cannot read this image"
                )
            self.count_frame()
            length, chunk_size = self.read_frame(block, position, window)
            decoded += chunk_size
            position += SNAPPY_FRAME_HEADER + length
        return position, decoded

    def count_frame(self) -> None:
        self.frames += 1
        if self.frames > self.frame_budget:
            raise AvmlError(
                f"more than {self.frame_budget} snappy frames in this image's file; avml "
                "writes at most one per 2 KiB (64 KiB chunks), so this is not read"
            )

    def read_frame(self, block: Block, position: int, window: int) -> tuple[int, int]:
        """(frame length, bytes the layer decodes from it) of the frame at `position`."""
        file_offset = block.data_start + position
        self.stream.seek(file_offset)
        head = self.stream.read(SNAPPY_FRAME_HEADER + SNAPPY_CRC + SNAPPY_VARINT_MAX)
        chunk_type, length = head[0], int.from_bytes(head[1:4], "little")
        label = f"{block.label}: snappy chunk at 0x{file_offset:x}"
        if chunk_type == SNAPPY_COMPRESSED:
            chunk_size = snappy_preamble(head[SNAPPY_FRAME_HEADER + SNAPPY_CRC :], label)
        elif chunk_type == SNAPPY_UNCOMPRESSED:
            # the layer slices a stored chunk out of its window, cut where the window ends
            end = min(position + SNAPPY_FRAME_HEADER + length, window)
            chunk_size = max(0, end - position - SNAPPY_FRAME_HEADER - SNAPPY_CRC)
        elif chunk_type <= SNAPPY_LAST_UNSKIPPABLE:
            raise AvmlError(f"{label} has the reserved unskippable type 0x{chunk_type:02x}")
        else:
            chunk_size = 0  # stream identifier, padding, skippable chunks
        if chunk_size > SNAPPY_MAX_CHUNK:
            raise AvmlError(
                f"{label} claims to decode to 0x{chunk_size:x} bytes; the framing format "
                f"allows 0x{SNAPPY_MAX_CHUNK:x}"
            )
        return length, chunk_size


def check_order(block: Block, previous: Block | None) -> None:
    """avml writes blocks in ascending physical order; volatility3's layer looks chunks up
    by bisection of its table in file order, and LiME ranges must ascend too."""
    if previous is not None and block.start <= previous.end:
        raise AvmlError(
            f"{block.label} starts at or below the end of the block before it "
            f"(physical 0x{previous.end:x}); AVML blocks ascend"
        )


def snappy_preamble(data: bytes, label: str) -> int:
    """The decoded length a snappy block starts with (little-endian base-128 varint)."""
    value = 0
    for index, byte in enumerate(data[:SNAPPY_VARINT_MAX]):
        value |= (byte & 0x7F) << (7 * index)
        if byte < 0x80:
            return value
    raise AvmlError(f"{label} has a corrupt length preamble")


@dataclass(frozen=True)
class LimeRange:
    """A run of the layer's chunks that continue each other in physical memory."""

    start: int
    end: int  # inclusive, as lime_mem_range_header's e_addr
    chunks: int


def lime_ranges(segments: Iterable[Segment]) -> list[LimeRange]:
    ranges: list[LimeRange] = []
    for segment in segments:
        end = segment.address + segment.length - 1
        if ranges and segment.address == ranges[-1].end + 1:
            last = ranges[-1]
            ranges[-1] = LimeRange(last.start, end, last.chunks + 1)
        else:
            ranges.append(LimeRange(segment.address, end, 1))
    return ranges


def nonempty_segments(layer: Any) -> Iterator[Segment]:
    return (segment for segment in iter_segments(layer) if segment.length > 0)


def lime_pieces(layer: Any) -> Generator[bytes, None, None]:
    """The LiME file, a header or one chunk's decoded bytes (at most 64 KiB) at a time."""
    segments = nonempty_segments(layer)
    for lime_range in lime_ranges(nonempty_segments(layer)):
        yield LIME_HEADER.pack(LIME_MAGIC, LIME_VERSION, lime_range.start, lime_range.end, 0)
        for segment in itertools.islice(segments, lime_range.chunks):
            yield layer.read(segment.address, segment.length)


class LimeStream:
    """`lime_pieces` as a file object for `spool_stream`."""

    def __init__(self, layer: Any) -> None:
        self._pieces = lime_pieces(layer)
        self._buffer = bytearray()

    def read(self, size: int, /) -> bytes:
        while len(self._buffer) < size and (piece := next(self._pieces, None)) is not None:
            self._buffer += piece
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def close(self) -> None:
        self._pieces.close()


def refuse_past_budget(spool: Spool, member: str, lime_size: int) -> None:
    """The spool stops a bomb as it writes; the block headers tell the size first, so
    volatility3 (whose layer decompresses every chunk once as it loads) decodes none."""
    if spool.expanded + lime_size > spool.max_expansion:
        raise ExpansionLimitError(
            f"{member}: expands past the limit of {spool.max_expansion} bytes "
            "(decompression bomb guard; raise --max-expansion to scan it)"
        )


def avml_layer(vol: Volatility, context: Any, base: str, display_path: str) -> Any:
    """volatility3's AVMLLayer on the file layer `base`."""
    try:
        layer = vol.avml.AVMLStacker.stack(context, base, None)
    except vol.errors as error:
        reason = f"volatility3 cannot read this AVML image: {describe_error(error)}"
        raise DecodeError(display_path, reason) from None
    if layer is None:
        raise DecodeError(display_path, "volatility3's AVML layer does not take this image")
    context.layers.add_layer(layer)
    return layer


def layer_errors(vol: Volatility) -> Describe:
    def describe(error: Exception) -> str | None:
        if isinstance(error, vol.errors):
            return f"volatility3 cannot decode this AVML image: {describe_error(error)}"
        return None

    return describe


def decode_to_lime(blob: Blob, spool: Spool) -> Blob:
    """The AVML image `blob` as a spooled LiME member named ``<blob>!lime``."""
    vol = volatility()
    if not vol.has_snappy:
        raise DecodeError(blob.display_path, NO_SNAPPY)
    layout = check_avml(blob.file, blob.size, blob.display_path)
    member = blob.member_path(LIME_MEMBER)
    refuse_past_budget(spool, member, layout.lime_size)
    context = vol.contexts.Context()
    file_layer = add_file_layer(vol, context, blob.file)
    try:
        layer = avml_layer(vol, context, file_layer.name, blob.display_path)
        lime = LimeStream(layer)
        return spool_stream(spool, member, lime, blob.depth + 1, layer_errors(vol))
    finally:
        file_layer.destroy()
        # volatility3's layer `read` is an lru_cache shared by every layer (512 results,
        # each holding its layer): drop this image's chunks and table with it.
        vol.avml.AVMLLayer.read.cache_clear()


class Avml(Container):
    name: ClassVar[str] = "avml"

    def probe(self, head: bytes) -> bool:
        return head.startswith(AVML_HEAD)

    def unpack(self, blob: Blob, spool: Spool) -> Iterator[Blob | Skipped]:
        yield decode_to_lime(blob, spool)
