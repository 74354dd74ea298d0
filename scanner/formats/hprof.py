"""Java HPROF heap dumps (jmap, jcmd GC.heap_dump, -XX:+HeapDumpOnOutOfMemoryError, Android).

Layout (the HotSpot/JDK 6+ "JAVA PROFILE 1.0.2" format, as written by
HeapDumper and documented in the JDK's HeapHprofBinWriter.java; "1.0.1" is the
older form without heap dump segments; Android's ART writes "1.0.3" with extra
sub-records).  Every number is big-endian.

* header: the NUL-terminated version string, u4 identifier size (4 or 8: the
  size of every "id" below), u4+u4 milliseconds since the epoch.
* records: u1 tag, u4 microseconds since the header time, u4 length of the
  body that follows.  HEAP DUMP (0x0C) and HEAP DUMP SEGMENT (0x1C) bodies are
  a run of sub-records; every other record is skipped by its length.
* sub-records, each a u1 tag then:
  ROOT UNKNOWN 0xFF, STICKY CLASS 0x05, MONITOR USED 0x07: id;
  ROOT JNI GLOBAL 0x01: id, id;  JNI LOCAL 0x02, JAVA FRAME 0x03: id, u4, u4;
  NATIVE STACK 0x04, THREAD BLOCK 0x06: id, u4;  THREAD OBJECT 0x08: id, u4, u4;
  CLASS DUMP 0x20: id class, u4 stack serial, 6 ids (super, loader, signers,
  protection domain, 2 reserved), u4 instance size, then three tables:
  u2 constant pool count x {u2 index, u1 type, value}, u2 static field count
  x {id name, u1 type, value}, u2 instance field count x {id name, u1 type};
  INSTANCE DUMP 0x21: id, u4, id class, u4 byte count, bytes;
  OBJ ARRAY DUMP 0x22: id, u4, u4 count, id class, count ids;
  PRIM ARRAY DUMP 0x23: id, u4, u4 count, u1 element type, count elements.
  Android (ART hprof.cc): HEAP DUMP INFO 0xFE: u4 heap id, id name;
  ROOT INTERNED STRING 0x89, FINALIZING 0x8A, DEBUGGER 0x8B, REFERENCE
  CLEANUP 0x8C, VM INTERNAL 0x8D, UNREACHABLE 0x90: id;  JNI MONITOR 0x8E:
  id, u4, u4;  PRIM ARRAY NODATA 0xC3: id, u4, u4 count, u1 type (no elements).
* basic types and their value sizes: 2 object (an id), 4 boolean 1, 5 char 2,
  6 float 4, 7 double 8, 8 byte 1, 9 short 2, 10 int 4, 11 long 8.

What is scanned: every primitive array whose element data is at least
MIN_ARRAY_BYTES long, each as its own Region, so no candidate spans two arrays.
A region's file_offset is its element data in the file, its address the array's
id (HotSpot and ART use the object's address as its id; the element data itself
starts a few header bytes further in memory), its name "<type>[] @0x<id>".
Elements are stored big-endian: a char[] is UTF-16BE text (the name says
"char[]"), an int[] such as a BigInteger's magnitude reads as one big-endian
number.  JDK 9+ Strings hold their text in a byte[] (Latin-1, or UTF-16 with
coder 1, in the JVM's native byte order), so String contents are scanned as
byte[] arrays.  Instance dumps (object fields), object arrays, class dumps
and the string table are skipped: keys live in array data, not in the
references and field scalars of those records.

Arrays shorter than MIN_ARRAY_BYTES are left out: the smallest structure any
detector looks for is a 32-byte raw scalar or seed (the known-key searches);
every PEM, DER and OpenSSH key is longer.  A heap holds millions of short
arrays (the byte[] of every short String), and a region each would cost the
scanner more than their bytes are worth.  Even so a real heap has ~2.3
million arrays of 32 bytes or more per GB of dump; regions are capped at
MAX_REGIONS (memory), and the arrays past the cap are a defect.  The walk runs
at ~100 MB/s (a 300 MB jmap dump of a JVM holding 700k Strings: 650k regions,
3.2 s, 210 MB of memory).

Bad input: a file without the header raises FormatError.  A record or
sub-record cut by the end of the file ends the walk: the arrays read so far
(and the readable part of a cut array) are scanned and a defect is recorded.
A heap dump segment whose sub-records do not add up (an unknown tag or basic
type, a sub-record running past its segment) loses the rest of that segment
only, with a defect: the walk resumes at the next record, whose place the
segment's length gives.  Every count and length read from the file is checked
against the segment's end before it is used; the file is read in blocks,
never whole.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from scanner.errors import FormatError
from scanner.formats.base import Dump, DumpReader, Region, cap_defects

VERSIONS = (b"JAVA PROFILE 1.0.1", b"JAVA PROFILE 1.0.2", b"JAVA PROFILE 1.0.3")
MAGIC_PREFIX = b"JAVA PROFILE 1.0."
ID_FORMATS = {4: struct.Struct(">I"), 8: struct.Struct(">Q")}
U2 = struct.Struct(">H")
U4 = struct.Struct(">I")
HEADER_TAIL = struct.Struct(">III")  # identifier size, time high word, time low word
RECORD_HEADER = struct.Struct(">BII")  # tag, microseconds, body length
HEAP_DUMP = 0x0C
HEAP_DUMP_SEGMENT = 0x1C
HEAP_DUMP_END = 0x2C
HEAP_TAGS = (HEAP_DUMP, HEAP_DUMP_SEGMENT, HEAP_DUMP_END)

ROOT_UNKNOWN = 0xFF
ROOT_JNI_GLOBAL = 0x01
ROOT_JNI_LOCAL = 0x02
ROOT_JAVA_FRAME = 0x03
ROOT_NATIVE_STACK = 0x04
ROOT_STICKY_CLASS = 0x05
ROOT_THREAD_BLOCK = 0x06
ROOT_MONITOR_USED = 0x07
ROOT_THREAD_OBJECT = 0x08
CLASS_DUMP = 0x20
INSTANCE_DUMP = 0x21
OBJ_ARRAY_DUMP = 0x22
PRIM_ARRAY_DUMP = 0x23
# Android ART extras.
HEAP_DUMP_INFO = 0xFE
ROOT_INTERNED_STRING = 0x89
ROOT_FINALIZING = 0x8A
ROOT_DEBUGGER = 0x8B
ROOT_REFERENCE_CLEANUP = 0x8C
ROOT_VM_INTERNAL = 0x8D
ROOT_JNI_MONITOR = 0x8E
ROOT_UNREACHABLE = 0x90
PRIM_ARRAY_NODATA_DUMP = 0xC3

OBJECT_TYPE = 2
ARRAY_ELEMENTS = {  # basic type: (Java name, bytes per element)
    4: ("boolean", 1),
    5: ("char", 2),
    6: ("float", 4),
    7: ("double", 8),
    8: ("byte", 1),
    9: ("short", 2),
    10: ("int", 4),
    11: ("long", 8),
}

ELEMENT_SIZES = {element_type: size for element_type, (_, size) in ARRAY_ELEMENTS.items()}

# Smallest array data worth a region: a 32-byte EC scalar or Ed25519/X25519 seed.
MIN_ARRAY_BYTES = 32
# A region costs ~300 bytes of memory; a hostile file could hold one per 50
# bytes.  Real dumps hold ~2.3 million arrays of 32 bytes or more per GB, so
# this allows dumps of about 2 GB whole (~1.5 GB of regions); the arrays after
# it are counted in a defect, so a bigger dump fails closed.
MAX_REGIONS = 5_000_000
# Bytes read per refill of a segment walk's buffer; an array longer than that is
# skipped by its length, never read.
BLOCK_SIZE = 4 * 1024 * 1024
# Top-level records are read in smaller blocks: after the string table most are
# heap dump segments of a MiB or more, each skipped whole.
RECORD_BLOCK_SIZE = 64 * 1024
# The version string is at most this long before its NUL (the longest known is 18).
MAX_VERSION_LENGTH = 32


@dataclass(frozen=True)
class Layout:
    """Sub-record sizes for one identifier size (the HPROF `id`)."""

    id_size: int
    id_at: struct.Struct = field(repr=False)
    fixed_body: dict[int, int] = field(repr=False)  # sub-record tag: body bytes after the tag
    value_sizes: dict[int, int] = field(repr=False)  # basic type: value bytes

    @property
    def longest_head(self) -> int:
        """The longest fixed part of a sub-record: CLASS DUMP's tag, id, u4, 6 ids, u4, u2."""
        return 1 + 7 * self.id_size + 10

    @classmethod
    def for_id_size(cls, ids: int) -> Layout:
        fixed_body = {
            ROOT_UNKNOWN: ids,
            ROOT_JNI_GLOBAL: 2 * ids,
            ROOT_JNI_LOCAL: ids + 8,
            ROOT_JAVA_FRAME: ids + 8,
            ROOT_NATIVE_STACK: ids + 4,
            ROOT_STICKY_CLASS: ids,
            ROOT_THREAD_BLOCK: ids + 4,
            ROOT_MONITOR_USED: ids,
            ROOT_THREAD_OBJECT: ids + 8,
            HEAP_DUMP_INFO: 4 + ids,
            ROOT_INTERNED_STRING: ids,
            ROOT_FINALIZING: ids,
            ROOT_DEBUGGER: ids,
            ROOT_REFERENCE_CLEANUP: ids,
            ROOT_VM_INTERNAL: ids,
            ROOT_JNI_MONITOR: ids + 8,
            ROOT_UNREACHABLE: ids,
            PRIM_ARRAY_NODATA_DUMP: ids + 9,
        }
        value_sizes = {OBJECT_TYPE: ids} | ELEMENT_SIZES
        return cls(ids, ID_FORMATS[ids], fixed_body, value_sizes)


class SegmentDamageError(Exception):
    """A sub-record that cannot be walked: the rest of its segment is skipped."""

    def __init__(self, offset: int, problem: str) -> None:
        super().__init__(problem)
        self.offset = offset
        self.problem = problem


class FileCutError(Exception):
    """The file ends inside a sub-record: the walk of the whole dump ends."""


@dataclass
class Block:
    """A buffered run of the file: data[0] is at file offset `start`."""

    start: int = 0
    data: bytes = field(default=b"", repr=False)

    @property
    def end(self) -> int:
        return self.start + len(self.data)


class HprofFile:
    """One open HPROF file: bounded reads, and what the walk found so far."""

    def __init__(self, fd: int, path: Path, size: int) -> None:
        self.fd = fd
        self.path = path
        self.size = size
        self.regions: list[Region] = []
        self.defects: list[str] = []
        self.arrays_left_out = 0

    def fail(self, problem: str) -> FormatError:
        return FormatError(f"{self.path}: {problem}")

    def read(self, offset: int, length: int) -> bytes:
        """`length` bytes at `offset`, fewer only where the file ends."""
        length = max(0, min(length, self.size - offset))
        data = os.pread(self.fd, length, offset)
        if len(data) != length:
            raise self.fail(f"short read at 0x{offset:x}: the file shrank while being read")
        return data

    def fill(self, block: Block, offset: int, wanted: int, limit: int, block_size: int) -> None:
        """Make `block` hold [offset, offset + wanted), or [offset, limit) when limit is nearer."""
        if block.start <= offset and min(offset + wanted, limit) <= block.end:
            return
        block.start = offset
        block.data = self.read(offset, min(max(wanted, block_size), limit - offset))

    def add_array(self, array_id: int, element_type: int, data_offset: int, size: int) -> None:
        """A region for the element data of one array (none below MIN_ARRAY_BYTES)."""
        if size >= MIN_ARRAY_BYTES and len(self.regions) >= MAX_REGIONS:
            self.arrays_left_out += 1
        elif size >= MIN_ARRAY_BYTES:
            name = f"{ARRAY_ELEMENTS[element_type][0]}[] @0x{array_id:x}"
            # Region(file_offset, size, address, permissions, name): positional, as
            # this runs once per array.
            self.regions.append(Region(data_offset, size, array_id, None, name))


def parse_header(head: bytes) -> tuple[int, int] | None:
    """(identifier size, offset of the first record), None when `head` is no HPROF header."""
    end = head.find(b"\0", 0, MAX_VERSION_LENGTH + 1)
    if end < 0 or head[:end] not in VERSIONS or len(head) < end + 1 + HEADER_TAIL.size:
        return None
    id_size, _, _ = HEADER_TAIL.unpack_from(head, end + 1)
    return int(id_size), end + 1 + HEADER_TAIL.size


class HprofReader(DumpReader):
    name = "hprof"

    def probe(self, head: bytes) -> bool:
        return head.startswith(MAGIC_PREFIX) and parse_header(head) is not None

    def read(self, path: Path, size: int) -> Dump:
        try:
            fd = os.open(path, os.O_RDONLY)
            try:
                return self._read_open(HprofFile(fd, path, size))
            finally:
                os.close(fd)
        except OSError as exc:
            raise FormatError(
                f"{path}: cannot read HPROF heap dump: {exc.strerror or exc}"
            ) from exc

    def _read_open(self, hprof: HprofFile) -> Dump:
        header = parse_header(hprof.read(0, MAX_VERSION_LENGTH + 1 + HEADER_TAIL.size))
        if header is None:
            raise hprof.fail("not an HPROF heap dump (no 'JAVA PROFILE 1.0.x' header)")
        id_size, first_record = header
        if id_size not in ID_FORMATS:
            raise hprof.fail(f"unsupported HPROF identifier size {id_size} (only 4 and 8 exist)")
        walk_records(hprof, Layout.for_id_size(id_size), first_record)
        if hprof.arrays_left_out:
            hprof.defects.insert(
                0,
                f"{hprof.arrays_left_out} arrays after the first {MAX_REGIONS} "
                "are not scanned (too many arrays)",
            )
        return Dump(
            format=self.name,
            regions=tuple(hprof.regions),
            defects=cap_defects(hprof.defects, "records"),
        )


def walk_records(hprof: HprofFile, layout: Layout, offset: int) -> None:
    """Every top-level record from `offset`; heap dump bodies are walked for their arrays."""
    block, last_heap_tag = Block(), None
    while offset < hprof.size:
        # Small blocks: most records after the string table are big segments, skipped whole.
        hprof.fill(block, offset, RECORD_HEADER.size, hprof.size, RECORD_BLOCK_SIZE)
        if offset + RECORD_HEADER.size > hprof.size:
            hprof.defects.append(f"file ends inside the record header at 0x{offset:x}")
            return
        tag, _, length = RECORD_HEADER.unpack_from(block.data, offset - block.start)
        body = offset + RECORD_HEADER.size
        if tag in (HEAP_DUMP, HEAP_DUMP_SEGMENT):
            if not walk_segment(hprof, layout, body, body + length):
                return
        elif body + length > hprof.size:
            hprof.defects.append(
                f"record 0x{tag:02x} at 0x{offset:x} runs to 0x{body + length:x}, past the "
                f"end of file at 0x{hprof.size:x}"
            )
        last_heap_tag = tag if tag in HEAP_TAGS else last_heap_tag
        offset = body + length
    check_heap_complete(hprof, last_heap_tag)


def check_heap_complete(hprof: HprofFile, last_heap_tag: int | None) -> None:
    """A file cut between records is only seen by what is missing at its end.

    jmap, jcmd and ART always write a heap dump; segments (0x1C) are always
    closed by HEAP DUMP END (0x2C).  The single HEAP DUMP (0x0C) of older
    JVMs has no end record, so a cut after it cannot be told from the end.
    """
    if last_heap_tag is None:
        hprof.defects.append(
            f"no heap dump record before the end of file at 0x{hprof.size:x} (cut short?)"
        )
    elif last_heap_tag == HEAP_DUMP_SEGMENT:
        hprof.defects.append(
            "heap dump segments are not closed by a HEAP DUMP END record: the file is "
            f"cut at 0x{hprof.size:x}"
        )


def walk_segment(hprof: HprofFile, layout: Layout, start: int, end: int) -> bool:
    """The sub-records of one HEAP DUMP (SEGMENT) body; False when the file ends inside it."""
    where = f"heap dump segment at 0x{start - RECORD_HEADER.size:x}"
    try:
        SubrecordWalk(hprof, layout, start, end).run()
        if end > hprof.size:  # cut at a sub-record boundary: the walk ended at the cut
            raise FileCutError
    except SegmentDamageError as damage:
        hprof.defects.append(
            f"{where}: {damage.problem} at 0x{damage.offset:x}; "
            f"the rest of the segment (to 0x{end:x}) is skipped"
        )
    except FileCutError:
        hprof.defects.append(
            f"{where} runs to 0x{end:x}, past the end of file at 0x{hprof.size:x}; "
            "the file is cut inside it"
        )
        return False
    return True


class SubrecordWalk:
    """One segment's sub-records in [start, end); arrays go to `hprof.add_array`.

    `run` is the reader's hot loop (millions of sub-records per dump): the
    common sub-records are decoded inline from a buffered block.  A sub-record
    that runs past the segment is damage (SegmentDamageError) when the segment lies
    inside the file, and a cut file (FileCutError, after keeping the readable part
    of a cut array) when the file ends first.
    """

    def __init__(self, hprof: HprofFile, layout: Layout, start: int, end: int) -> None:
        self.hprof = hprof
        self.layout = layout
        self.start = start
        self.end = end
        self.limit = min(end, hprof.size)

    def run(self) -> None:
        hprof, limit, ids = self.hprof, self.limit, self.layout.id_size
        fixed_body, element_sizes = self.layout.fixed_body, ELEMENT_SIZES
        u4_at = U4.unpack_from
        # INSTANCE DUMP: tag, id object, u4 stack serial, id class, u4 field bytes, fields.
        # OBJ ARRAY DUMP: tag, id array, u4 stack serial, u4 count, id class, count ids.
        object_head = 1 + 2 * ids + 8
        # PRIM ARRAY DUMP: tag, id array, u4 stack serial, u4 count, u1 type, elements.
        array_head = 1 + ids + 9
        refill_margin = self.layout.longest_head
        data, data_length, base, offset = b"", 0, self.start, self.start
        while offset < limit:
            at = offset - base
            if at + refill_margin > data_length and base + data_length < limit:
                data, base, at = hprof.read(offset, min(BLOCK_SIZE, limit - offset)), offset, 0
                data_length = len(data)
            tag = data[at]
            if tag == PRIM_ARRAY_DUMP and at + array_head <= data_length:
                element_size = element_sizes.get(data[at + array_head - 1], 0)
                size = u4_at(data, at + ids + 5)[0] * element_size
                next_offset = offset + array_head + size
                if size >= MIN_ARRAY_BYTES or not element_size:
                    self.keep_array(data, at, offset, next_offset)
            elif tag == INSTANCE_DUMP and at + object_head <= data_length:
                next_offset = offset + object_head + u4_at(data, at + object_head - 4)[0]
            elif tag == OBJ_ARRAY_DUMP and at + object_head <= data_length:
                next_offset = offset + object_head + u4_at(data, at + ids + 5)[0] * ids
            elif tag in fixed_body:
                next_offset = offset + 1 + fixed_body[tag]
            elif tag == CLASS_DUMP:
                next_offset = self.class_dump_end(offset)
            elif tag in (PRIM_ARRAY_DUMP, INSTANCE_DUMP, OBJ_ARRAY_DUMP):
                self.overrun(tag, offset)  # its head is cut by the limit
            else:
                raise SegmentDamageError(offset, f"unknown sub-record tag 0x{tag:02x}")
            if next_offset > limit:
                self.overrun(tag, offset)
            offset = next_offset

    def overrun(self, tag: int, offset: int) -> NoReturn:
        """A sub-record runs past `limit`: the file is cut, or the segment is damaged."""
        if self.limit < self.end:
            raise FileCutError
        raise SegmentDamageError(offset, f"sub-record 0x{tag:02x} runs past the segment end")

    def keep_array(self, data: bytes, at: int, offset: int, record_end: int) -> None:
        """Add the PRIM ARRAY DUMP at `offset` (data[at]) as a region; a cut one is clipped."""
        element_type = data[at + self.layout.id_size + 9]
        if element_type not in ARRAY_ELEMENTS:
            raise SegmentDamageError(offset, f"primitive array of unknown type {element_type}")
        array_id: int = self.layout.id_at.unpack_from(data, at + 1)[0]
        data_offset = offset + self.layout.id_size + 10
        if record_end > self.limit:
            if self.limit >= self.end:
                self.overrun(PRIM_ARRAY_DUMP, offset)
            record_end = self.limit  # the file is cut inside the array: keep what is there
        self.hprof.add_array(array_id, element_type, data_offset, record_end - data_offset)

    def class_dump_end(self, offset: int) -> int:
        """Where the CLASS DUMP at `offset` ends: its three tables are walked entry by entry."""
        ids = self.layout.id_size
        position = offset + 1 + 7 * ids + 8  # tag, id, u4, 6 ids, u4 instance size
        position = self.table_end(position, 3, offset, with_value=True)  # constant pool
        position = self.table_end(position, ids + 1, offset, with_value=True)  # static fields
        return self.table_end(position, ids + 1, offset, with_value=False)  # instance fields

    def table_end(self, position: int, entry_head: int, offset: int, with_value: bool) -> int:
        """End of a u2-counted table whose entries are `entry_head` bytes ending in a u1 type,
        then (`with_value`) a value as long as that type's value."""
        count_bytes = self.hprof.read(position, 2)
        if len(count_bytes) < 2 or position + 2 > self.limit:
            self.overrun(CLASS_DUMP, offset)
        (count,) = U2.unpack(count_bytes)
        position += 2
        longest_value = 8 if with_value else 0
        table = self.hprof.read(
            position, min(count * (entry_head + longest_value), self.limit - position)
        )
        at = 0
        for _ in range(count):
            if at + entry_head > len(table):
                self.overrun(CLASS_DUMP, offset)
            value_type = table[at + entry_head - 1]
            value_size = self.layout.value_sizes.get(value_type)
            if value_size is None:
                raise SegmentDamageError(offset, f"class dump field of unknown type {value_type}")
            at += entry_head + (value_size if with_value else 0)
        if at > len(table):
            self.overrun(CLASS_DUMP, offset)
        return position + at
