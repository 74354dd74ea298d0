"""Windows minidumps (MDMP): MiniDumpWriteDump, breakpad and crashpad output.

Layouts from minidumpapiset.h, all little-endian:

* MINIDUMP_HEADER (32 bytes): Signature "MDMP", Version (low 16 bits 0xA793),
  NumberOfStreams, StreamDirectoryRva, CheckSum, TimeDateStamp, u64 Flags.
* MINIDUMP_DIRECTORY (12 bytes): StreamType, DataSize, Rva.
* MemoryListStream (5): u32 count, count x MINIDUMP_MEMORY_DESCRIPTOR
  {u64 StartOfMemoryRange, u32 DataSize, u32 Rva}.
* Memory64ListStream (9): u64 count, u64 BaseRva, count x {u64 Start, u64
  DataSize}; range i's bytes follow range i-1's, starting at BaseRva.
* ModuleListStream (4): u32 count, count x MINIDUMP_MODULE (108 bytes; u64
  BaseOfImage, u32 SizeOfImage, u32 CheckSum, u32 TimeDateStamp, u32
  ModuleNameRva, ...).  Names are MINIDUMP_STRING: u32 byte length, UTF-16LE.
* MiscInfoStream (15): u32 SizeOfInfo, u32 Flags1, u32 ProcessId (valid when
  Flags1 & MINIDUMP_MISC1_PROCESS_ID).
* ThreadListStream (3): u32 count, count x MINIDUMP_THREAD (48 bytes; u32
  ThreadId, SuspendCount, PriorityClass, Priority, u64 Teb, Stack
  MINIDUMP_MEMORY_DESCRIPTOR, ThreadContext location).
* MemoryInfoListStream (16): MINIDUMP_MEMORY_INFO_LIST {u32 SizeOfHeader, u32
  SizeOfEntry, u64 NumberOfEntries}, then MINIDUMP_MEMORY_INFO entries {u64
  BaseAddress, u64 AllocationBase, u32 AllocationProtect, u32 pad, u64
  RegionSize, u32 State, u32 Protect, u32 Type, u32 pad}.
* Breakpad's MD_LINUX_MAPS (0x47670009): the text of /proc/self/maps.

Regions are cut where MemoryInfoList entries (or /proc/self/maps lines) begin
and end, so each carries its protection ("rw-" for PAGE_READWRITE), and are
named: the module path for image memory, "stack of thread TID" for a thread's
stack, the mapped file (maps), otherwise "anonymous rw-" (or "image"/"mapped"
for MEM_IMAGE/MEM_MAPPED memory no module names).  Without either stream the
protection is unknown and anonymous memory stays unnamed.

Breakpad pads the u32 count of the list streams to 8 bytes; like rust-minidump
we accept exactly that 4-byte pad.

Bad input policy, one rule: structure must be whole, memory may be cut.
The header, the stream directory, every directory entry's [Rva, Rva+DataSize),
the records a list stream's count claims and module names must lie inside the
file (and inside their stream); otherwise the counts cannot be trusted and
`read` raises FormatError (the rust-minidump fuzz inputs invalid-range and
invalid-record-count end here).  The bytes a memory descriptor points at may
be missing at the end of a cut file: that region is clipped or dropped and a
defect is recorded, so the rest is still scanned and the input fails closed.
Nothing is allocated from a count before the count is checked against the
file size.
"""

from __future__ import annotations

import bisect
import itertools
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PureWindowsPath
from typing import BinaryIO

from scanner.errors import FormatError
from scanner.formats.base import Dump, DumpReader, Region, cap_defects, clip_to_file

SIGNATURE = b"MDMP"
VERSION_LOW = 0xA793
HEADER = struct.Struct("<4sIIIIIQ")
DIRECTORY_ENTRY = struct.Struct("<III")
MEMORY_DESCRIPTOR = struct.Struct("<QII")
MEMORY64_DESCRIPTOR = struct.Struct("<QQ")
LIST_COUNT = struct.Struct("<I")  # MemoryList / ModuleList: u32 NumberOf...
MEMORY64_LIST_HEADER = struct.Struct("<QQ")  # u64 NumberOfMemoryRanges, u64 BaseRva
MODULE_PREFIX = struct.Struct("<QIIII")  # BaseOfImage .. ModuleNameRva
MODULE_SIZE = 108
MISC_INFO_PREFIX = struct.Struct("<III")
THREAD_PREFIX = struct.Struct("<IIIIQQI")  # ThreadId .. Teb, Stack.StartOfMemoryRange, DataSize
THREAD_SIZE = 48
MEMORY_INFO_LIST_HEADER = struct.Struct("<IIQ")
MEMORY_INFO = struct.Struct("<QQIIQIII")  # BaseAddress .. Type (48 bytes with the last pad)
MEMORY_INFO_SIZE = 48

UNUSED_STREAM = 0
THREAD_LIST_STREAM = 3
MODULE_LIST_STREAM = 4
MEMORY_LIST_STREAM = 5
MEMORY64_LIST_STREAM = 9
MISC_INFO_STREAM = 15
MEMORY_INFO_LIST_STREAM = 16
LINUX_MAPS_STREAM = 0x47670009  # MD_LINUX_MAPS, breakpad minidump_format.h
MINIDUMP_MISC1_PROCESS_ID = 0x1

# winnt.h PAGE_* protections (low byte; PAGE_GUARD/NOCACHE/WRITECOMBINE are modifiers above).
PROTECTIONS = {
    0x01: "---",  # PAGE_NOACCESS
    0x02: "r--",  # PAGE_READONLY
    0x04: "rw-",  # PAGE_READWRITE
    0x08: "rw-",  # PAGE_WRITECOPY
    0x10: "--x",  # PAGE_EXECUTE
    0x20: "r-x",  # PAGE_EXECUTE_READ
    0x40: "rwx",  # PAGE_EXECUTE_READWRITE
    0x80: "rwx",  # PAGE_EXECUTE_WRITECOPY
}
MEM_COMMIT = 0x1000
# MINIDUMP_MEMORY_INFO.Type: what the name says for memory no module or stack claims.
MEMORY_TYPE_NAMES = {0x1000000: "image", 0x40000: "mapped", 0x20000: "anonymous"}

# MINIDUMP_STRING lengths are bytes; Windows paths stop at 32767 UTF-16 units.
MAX_NAME_BYTES = 65536


@dataclass(frozen=True)
class Stream:
    type: int
    rva: int
    size: int


@dataclass(frozen=True)
class Module:
    base: int
    size: int
    path: str


@dataclass(frozen=True)
class Thread:
    id: int
    stack_start: int
    stack_size: int


@dataclass(frozen=True)
class Area:
    """What a MemoryInfoList entry or a /proc/self/maps line says about [start, end)."""

    start: int
    end: int
    permissions: str | None
    memory_type: str = "anonymous"
    path: str | None = None


@dataclass(frozen=True)
class MemoryRange:
    address: int
    rva: int
    size: int


class MinidumpFile:
    """One open minidump: bounded reads that raise FormatError naming the file."""

    def __init__(self, stream: BinaryIO, path: Path, size: int) -> None:
        self.stream = stream
        self.path = path
        self.size = size

    def fail(self, problem: str) -> FormatError:
        return FormatError(f"{self.path}: {problem}")

    def read_at(self, offset: int, length: int, what: str) -> bytes:
        if offset + length > self.size:
            raise self.fail(
                f"{what} at 0x{offset:x}+0x{length:x} runs past end of file (0x{self.size:x} bytes)"
            )
        self.stream.seek(offset)
        data = self.stream.read(length)
        if len(data) != length:
            raise self.fail(f"{what} at 0x{offset:x}: file is shorter than its stated size")
        return data

    def directory_location(self) -> tuple[int, int]:
        """Stream count and directory RVA from MINIDUMP_HEADER, after checking its magic."""
        header = self.read_at(0, HEADER.size, "header")
        signature, version, stream_count, directory_rva, _, _, _ = HEADER.unpack(header)
        if signature != SIGNATURE:
            raise self.fail("not a minidump (no MDMP signature)")
        if version & 0xFFFF != VERSION_LOW:
            raise self.fail(f"unknown minidump version 0x{version:x}")
        return stream_count, directory_rva

    def directory(self) -> list[Stream]:
        """Every MINIDUMP_DIRECTORY entry; each stream in use must lie inside the file."""
        stream_count, directory_rva = self.directory_location()
        table = self.read_at(
            directory_rva,
            stream_count * DIRECTORY_ENTRY.size,
            f"directory of {stream_count} streams",
        )
        streams = [
            Stream(type_, rva, size) for type_, size, rva in DIRECTORY_ENTRY.iter_unpack(table)
        ]
        for index, stream in enumerate(streams):
            if stream.type != UNUSED_STREAM and stream.rva + stream.size > self.size:
                raise self.fail(
                    f"stream {index} (type 0x{stream.type:x}) at 0x{stream.rva:x}+0x{stream.size:x}"
                    f" runs past end of file (0x{self.size:x} bytes)"
                )
        return streams

    def string_bytes(self, rva: int) -> bytes:
        """The UTF-16LE bytes of a MINIDUMP_STRING: u32 length in bytes, then the text."""
        (length,) = struct.unpack("<I", self.read_at(rva, 4, "string length"))
        if length > MAX_NAME_BYTES:
            raise self.fail(f"string at 0x{rva:x} claims {length} bytes")
        return self.read_at(rva + 4, length, "string")


class MinidumpReader(DumpReader):
    name = "minidump"

    def probe(self, head: bytes) -> bool:
        return head[:4] == SIGNATURE

    def read(self, path: Path, size: int) -> Dump:
        try:
            with path.open("rb") as stream:
                return self._read_open(MinidumpFile(stream, path, size))
        except OSError as exc:
            raise FormatError(f"{path}: cannot read minidump: {exc.strerror or exc}") from exc

    def _read_open(self, dump_file: MinidumpFile) -> Dump:
        streams = first_of_each_type(dump_file.directory())
        ranges = memory_ranges(dump_file, streams)
        modules = module_list(dump_file, streams.get(MODULE_LIST_STREAM))
        regions, defects = regions_in_file(ranges, dump_file.size)
        areas = memory_areas(dump_file, streams)
        threads = thread_list(dump_file, streams.get(THREAD_LIST_STREAM))
        regions = [piece for region in regions for piece in cut_by_areas(region, areas)]
        return Dump(
            format=self.name,
            regions=tuple(name_regions(regions, modules, threads, areas)),
            process_name=process_name(modules),
            pid=process_id(dump_file, streams.get(MISC_INFO_STREAM)),
            defects=cap_defects(defects, "memory ranges"),
        )


def first_of_each_type(streams: Sequence[Stream]) -> dict[int, Stream]:
    by_type: dict[int, Stream] = {}
    for stream in streams:
        by_type.setdefault(stream.type, stream)
    return by_type


def read_list(
    dump_file: MinidumpFile, stream: Stream, header: struct.Struct, record_size: int, what: str
) -> tuple[tuple[int, ...], bytes]:
    """A list stream's header fields (count first) and the bytes of its records.

    The count is checked against the stream's DataSize before anything is read,
    so a bogus count costs nothing; breakpad's 4-byte pad after a u32 count is
    accepted when the sizes say exactly that.
    """
    if stream.size < header.size:
        raise dump_file.fail(f"{what} is shorter than its {header.size}-byte header")
    fields = header.unpack(dump_file.read_at(stream.rva, header.size, what))
    count = fields[0]
    records_start = header.size
    if stream.size == header.size + 4 + count * record_size:
        records_start += 4
    if records_start + count * record_size > stream.size:
        raise dump_file.fail(
            f"{what} claims {count} records of {record_size} bytes "
            f"but the stream holds {stream.size} bytes"
        )
    return fields, dump_file.read_at(stream.rva + records_start, count * record_size, what)


def memory_ranges(dump_file: MinidumpFile, streams: dict[int, Stream]) -> list[MemoryRange]:
    ranges: list[MemoryRange] = []
    if MEMORY_LIST_STREAM in streams:
        ranges += memory_list(dump_file, streams[MEMORY_LIST_STREAM])
    if MEMORY64_LIST_STREAM in streams:
        ranges += memory64_list(dump_file, streams[MEMORY64_LIST_STREAM])
    return ranges


def memory_list(dump_file: MinidumpFile, stream: Stream) -> list[MemoryRange]:
    _, records = read_list(
        dump_file, stream, LIST_COUNT, MEMORY_DESCRIPTOR.size, "MemoryListStream"
    )
    return [
        MemoryRange(address=start, rva=rva, size=size)
        for start, size, rva in MEMORY_DESCRIPTOR.iter_unpack(records)
    ]


def memory64_list(dump_file: MinidumpFile, stream: Stream) -> list[MemoryRange]:
    (_, base_rva), records = read_list(
        dump_file, stream, MEMORY64_LIST_HEADER, MEMORY64_DESCRIPTOR.size, "Memory64ListStream"
    )
    ranges: list[MemoryRange] = []
    next_rva = base_rva  # ranges are stored back to back from BaseRva
    for start, size in MEMORY64_DESCRIPTOR.iter_unpack(records):
        ranges.append(MemoryRange(address=start, rva=next_rva, size=size))
        next_rva += size
    return ranges


def regions_in_file(ranges: Sequence[MemoryRange], size: int) -> tuple[list[Region], list[str]]:
    """A region per non-empty range, clipped where the file ends."""
    regions: list[Region] = []
    defects: list[str] = []
    for index, memory in enumerate(ranges):
        if memory.size == 0:
            continue
        label = f"memory range {index} (address 0x{memory.address:x})"
        kept, defect = clip_to_file(label, memory.rva, memory.size, size)
        if defect:
            defects.append(defect)
        if kept > 0:
            regions.append(Region(file_offset=memory.rva, size=kept, address=memory.address))
    return regions, defects


def module_list(dump_file: MinidumpFile, stream: Stream | None) -> list[Module]:
    if stream is None:
        return []
    _, records = read_list(dump_file, stream, LIST_COUNT, MODULE_SIZE, "ModuleListStream")
    names = NameTable(dump_file)
    modules: list[Module] = []
    for offset in range(0, len(records), MODULE_SIZE):
        base, image_size, _, _, name_rva = MODULE_PREFIX.unpack_from(records, offset)
        modules.append(Module(base=base, size=image_size, path=names.at(name_rva)))
    return modules


class NameTable:
    """Module names read once per RVA, in total no more bytes than the file holds.

    Without the total, a hostile module list could point many records at
    overlapping 64 KiB strings and decode far more than the file's size.
    """

    def __init__(self, dump_file: MinidumpFile) -> None:
        self.dump_file = dump_file
        self.by_rva: dict[int, str] = {}
        self.bytes_read = 0

    def at(self, rva: int) -> str:
        if rva not in self.by_rva:
            raw = self.dump_file.string_bytes(rva)
            self.bytes_read += len(raw)
            if self.bytes_read > self.dump_file.size:
                raise self.dump_file.fail("module names overlap: more name bytes than the file")
            self.by_rva[rva] = raw.decode("utf-16-le", errors="replace")
        return self.by_rva[rva]


def process_name(modules: Sequence[Module]) -> str | None:
    """The main executable's file name: the first module, by minidump convention."""
    if not modules:
        return None
    return PureWindowsPath(modules[0].path).name or None


def process_id(dump_file: MinidumpFile, stream: Stream | None) -> int | None:
    if stream is None or stream.size < MISC_INFO_PREFIX.size:
        return None
    misc_info = dump_file.read_at(stream.rva, MISC_INFO_PREFIX.size, "MiscInfoStream")
    _, flags1, pid = MISC_INFO_PREFIX.unpack(misc_info)
    return int(pid) if flags1 & MINIDUMP_MISC1_PROCESS_ID else None


def name_regions(
    regions: Sequence[Region],
    modules: Sequence[Module],
    threads: Sequence[Thread] = (),
    areas: AreaTable | None = None,
) -> Iterator[Region]:
    """Name each region: the module whose image [base, base+size) holds its address, the
    thread whose stack holds it, the file mapped there, else by protection and type."""
    ordered = sorted(modules, key=lambda module: module.base)
    bases = [module.base for module in ordered]
    for region in regions:
        module = module_at(region.address, ordered, bases)
        if module is not None:
            yield replace(region, name=module.path, module=module.path)
            continue
        area = areas.at(region.address) if areas is not None else None
        if area is not None and area.path is not None:
            yield replace(region, name=area.path, module=area.path)
            continue
        yield replace(region, name=unmapped_name(region, threads, area))


def unmapped_name(region: Region, threads: Sequence[Thread], area: Area | None) -> str | None:
    for thread in threads:
        if region.address is not None and (
            thread.stack_start <= region.address < thread.stack_start + thread.stack_size
        ):
            return f"stack of thread {thread.id}"
    if region.permissions is None:
        return None
    kind = area.memory_type if area is not None else "anonymous"
    return f"{kind} {region.permissions}"


def thread_list(dump_file: MinidumpFile, stream: Stream | None) -> list[Thread]:
    if stream is None:
        return []
    _, records = read_list(dump_file, stream, LIST_COUNT, THREAD_SIZE, "ThreadListStream")
    threads = []
    for offset in range(0, len(records), THREAD_SIZE):
        thread_id, _, _, _, _, stack_start, stack_size = THREAD_PREFIX.unpack_from(records, offset)
        threads.append(Thread(thread_id, stack_start, stack_size))
    return threads


class AreaTable:
    """Areas by start address (non-overlapping, as the OS reports them)."""

    def __init__(self, areas: Sequence[Area]) -> None:
        self.areas = sorted((a for a in areas if a.end > a.start), key=lambda a: a.start)
        self.starts = [area.start for area in self.areas]

    def at(self, address: int | None) -> Area | None:
        if address is None:
            return None
        index = bisect.bisect_right(self.starts, address) - 1
        if index >= 0 and address < self.areas[index].end:
            return self.areas[index]
        return None

    def boundaries_inside(self, start: int, end: int) -> list[int]:
        """Area starts and ends strictly inside (start, end), in order."""
        first = max(0, bisect.bisect_right(self.starts, start) - 1)
        last = bisect.bisect_left(self.starts, end)
        edges = {edge for area in self.areas[first:last] for edge in (area.start, area.end)}
        return sorted(edge for edge in edges if start < edge < end)


def cut_by_areas(region: Region, areas: AreaTable) -> Iterator[Region]:
    """The region in pieces at area boundaries, each with its area's protection."""
    if region.address is None or not areas.areas:
        yield region
        return
    edges = [region.address, *areas.boundaries_inside(region.address, region.address + region.size)]
    edges.append(region.address + region.size)
    for start, end in itertools.pairwise(edges):
        area = areas.at(start)
        yield Region(
            file_offset=region.file_offset + (start - region.address),
            size=end - start,
            address=start,
            permissions=area.permissions if area is not None else None,
        )


def memory_areas(dump_file: MinidumpFile, streams: dict[int, Stream]) -> AreaTable:
    """MemoryInfoList entries (Windows, crashpad) or else /proc/self/maps lines (breakpad)."""
    if MEMORY_INFO_LIST_STREAM in streams:
        return AreaTable(memory_info_list(dump_file, streams[MEMORY_INFO_LIST_STREAM]))
    if LINUX_MAPS_STREAM in streams:
        return AreaTable(linux_maps(dump_file, streams[LINUX_MAPS_STREAM]))
    return AreaTable([])


def memory_info_list(dump_file: MinidumpFile, stream: Stream) -> list[Area]:
    """MINIDUMP_MEMORY_INFO entries; header and entry sizes are read, not assumed, so a
    later, longer entry layout still reads (the fields we use come first)."""
    what = "MemoryInfoListStream"
    if stream.size < MEMORY_INFO_LIST_HEADER.size:
        raise dump_file.fail(f"{what} is shorter than its 16-byte header")
    header_size, entry_size, count = MEMORY_INFO_LIST_HEADER.unpack(
        dump_file.read_at(stream.rva, MEMORY_INFO_LIST_HEADER.size, what)
    )
    if header_size < MEMORY_INFO_LIST_HEADER.size or entry_size < MEMORY_INFO_SIZE:
        raise dump_file.fail(f"{what} has header size {header_size}, entry size {entry_size}")
    if header_size + count * entry_size > stream.size:
        raise dump_file.fail(
            f"{what} claims {count} entries of {entry_size} bytes "
            f"but the stream holds {stream.size} bytes"
        )
    records = dump_file.read_at(stream.rva + header_size, count * entry_size, what)
    return [memory_info_area(records, offset) for offset in range(0, len(records), entry_size)]


def memory_info_area(records: bytes, offset: int) -> Area:
    base, _, _, _, size, state, protect, memory_type = MEMORY_INFO.unpack_from(records, offset)
    permissions = PROTECTIONS.get(protect & 0xFF) if state == MEM_COMMIT else None
    kind = MEMORY_TYPE_NAMES.get(memory_type, "anonymous")
    return Area(start=base, end=base + size, permissions=permissions, memory_type=kind)


def linux_maps(dump_file: MinidumpFile, stream: Stream) -> list[Area]:
    """/proc/self/maps lines: "start-end perms offset dev inode [path]"."""
    text = dump_file.read_at(stream.rva, stream.size, "LinuxMapsStream")
    areas = []
    for line in text.decode("utf-8", errors="backslashreplace").splitlines():
        area = maps_line(line)
        if area is not None:
            areas.append(area)
    return areas


def maps_line(line: str) -> Area | None:
    fields = line.split(maxsplit=5)
    if len(fields) < 5 or "-" not in fields[0]:
        return None
    try:
        start, end = (int(bound, 16) for bound in fields[0].split("-", 1))
    except ValueError:
        return None
    path = fields[5] if len(fields) == 6 and fields[5].startswith("/") else None
    return Area(start=start, end=end, permissions=fields[1][:3], path=path)


def module_at(
    address: int | None, ordered: Sequence[Module], bases: Sequence[int]
) -> Module | None:
    if address is None:
        return None
    index = bisect.bisect_right(bases, address) - 1
    if index >= 0 and address < ordered[index].base + ordered[index].size:
        return ordered[index]
    return None
