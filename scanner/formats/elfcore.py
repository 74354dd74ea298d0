"""ELF core files (Linux, NetBSD and other SysV cores): each dumped PT_LOAD is a region.

pyelftools parses the ELF header and the program header table (ELF32/ELF64,
either byte order).  Notes are walked here, from bytes read once and bounded,
because pyelftools parses NT_FILE from the stream with the note's own count
and without looking at the note's size.  Layouts:

* note header: three 4-byte words (namesz, descsz, type), name and desc each
  padded to 4 bytes (gABI "Note Section"; Linux cores use 4 for ELF64 too).
* NT_FILE, Linux fs/binfmt_elf.c fill_files_note(): long count, long
  page_size, count x {long start, long end, long file_ofs}, then count
  NUL-terminated paths; "long" is 4 bytes in ELF32 cores, 8 in ELF64.
* NT_PRPSINFO, Linux include/uapi/linux/elfcore.h struct elf_prpsinfo.
* NetBSD-CORE note type 1, NetBSD sys/sys/exec_elf.h struct
  netbsd_elfcore_procinfo.

Bad input: an unparsable header or a program header table that does not fit
in the file raises FormatError.  A PT_LOAD whose bytes run past the end of a
cut file is clipped (or dropped when none of it is there) and recorded as a
defect.  Malformed notes only lose names: the walk stops at the first note
that does not fit.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from elftools.common.exceptions import ELFError
from elftools.construct.core import ConstructError
from elftools.elf.elffile import ELFFile

from scanner.errors import FormatError
from scanner.formats.base import Dump, DumpReader, Region, cap_defects, clip_to_file

ELF_MAGIC = b"\x7fELF"
ET_CORE = 4
# e_ident[EI_DATA]: 1 = little-endian, 2 = big-endian.
BYTE_ORDER = {1: "<", 2: ">"}
PF_X, PF_W, PF_R = 1, 2, 4

NT_PRPSINFO = 3
NT_FILE = 0x46494C45  # "FILE"
NETBSD_CORE_PROCINFO = 1

# Real note segments hold KiB to a few MiB (NT_FILE grows with the mapping
# count); reading more than this in all only serves a hostile header.
MAX_NOTE_BYTES = 64 * 1024 * 1024
# Defect strings kept per dump; the rest are counted in one summary line.

# Errors pyelftools (and its bundled construct) raise on garbage headers.
PARSE_ERRORS = (
    ELFError,
    ConstructError,
    struct.error,
    ValueError,
    OverflowError,
    EOFError,
    KeyError,
    IndexError,
    TypeError,
)


@dataclass(frozen=True)
class Note:
    name: bytes
    type: int
    desc: bytes


@dataclass(frozen=True)
class MappedFile:
    """One NT_FILE entry: the file mapped at [start, end)."""

    start: int
    end: int
    path: str


@dataclass(frozen=True)
class ProcessInfo:
    name: str | None = None
    pid: int | None = None


class ElfCoreReader(DumpReader):
    """ELF files whose e_type is ET_CORE; executables and libraries are not dumps."""

    name = "elf-core"

    def probe(self, head: bytes) -> bool:
        if len(head) < 18 or head[:4] != ELF_MAGIC or head[5] not in BYTE_ORDER:
            return False
        (e_type,) = struct.unpack_from(BYTE_ORDER[head[5]] + "H", head, 16)
        return bool(e_type == ET_CORE)

    def read(self, path: Path, size: int) -> Dump:
        try:
            with path.open("rb") as stream:
                return self._read_open(stream, path, size)
        except OSError as exc:
            raise FormatError(f"{path}: cannot read ELF core: {exc.strerror or exc}") from exc

    def _read_open(self, stream: BinaryIO, path: Path, size: int) -> Dump:
        elf, program_headers = parse_headers(stream, path, size)
        byte_order = "<" if elf.little_endian else ">"
        notes = read_notes(stream, program_headers, size, byte_order)
        regions, defects = load_regions(program_headers, size)
        mapped_files = mapped_files_from(notes, elf.elfclass, byte_order)
        process = process_info_from(notes, elf.elfclass, byte_order)
        return Dump(
            format=self.name,
            regions=tuple(name_regions(regions, mapped_files)),
            process_name=process.name,
            pid=process.pid,
            defects=cap_defects(defects, "segments"),
        )


def parse_headers(stream: BinaryIO, path: Path, size: int) -> tuple[Any, list[Any]]:
    """The ELFFile and its program headers; FormatError when they cannot be parsed."""
    try:
        elf = ELFFile(stream)
        if elf.header.e_type != "ET_CORE":
            raise FormatError(f"{path}: ELF file is not a core (e_type {elf.header.e_type})")
        return elf, read_program_headers(elf, stream, path, size)
    except PARSE_ERRORS as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__  # one line, never empty
        raise FormatError(f"{path}: corrupt ELF core header: {reason}") from exc


def read_program_headers(elf: Any, stream: BinaryIO, path: Path, size: int) -> list[Any]:
    count = elf.num_segments()
    entry_size = elf.structs.Elf_Phdr.sizeof()
    if count == 0:
        return []
    if elf.header.e_phentsize != entry_size:
        raise FormatError(f"{path}: e_phentsize is {elf.header.e_phentsize}, expected {entry_size}")
    table_offset = elf.header.e_phoff
    if table_offset + count * entry_size > size:
        raise FormatError(
            f"{path}: program header table ({count} entries at 0x{table_offset:x}) "
            f"runs past end of file (0x{size:x} bytes)"
        )
    stream.seek(table_offset)
    table = stream.read(count * entry_size)
    return [
        elf.structs.Elf_Phdr.parse(table[start : start + entry_size])
        for start in range(0, len(table), entry_size)
    ]


def load_regions(program_headers: Sequence[Any], size: int) -> tuple[list[Region], list[str]]:
    """A region per PT_LOAD that has bytes in the file, clipped at the end of the file."""
    regions: list[Region] = []
    defects: list[str] = []
    for index, header in enumerate(program_headers):
        if header.p_type != "PT_LOAD" or header.p_filesz == 0:
            continue  # p_filesz == 0: the core writer chose not to dump it.
        label = f"segment {index} (PT_LOAD at address 0x{header.p_vaddr:x})"
        kept, defect = clip_to_file(label, header.p_offset, header.p_filesz, size)
        if defect:
            defects.append(defect)
        if kept > 0:
            regions.append(
                Region(
                    file_offset=header.p_offset,
                    size=kept,
                    address=header.p_vaddr,
                    permissions=permissions(header.p_flags),
                )
            )
    return regions, defects


def permissions(p_flags: int) -> str:
    return "".join(
        letter if p_flags & flag else "-"
        for letter, flag in (("r", PF_R), ("w", PF_W), ("x", PF_X))
    )


def read_notes(
    stream: BinaryIO, program_headers: Sequence[Any], size: int, byte_order: str
) -> list[Note]:
    """Notes of every PT_NOTE, reading no more than MAX_NOTE_BYTES in all.

    The budget is shared so that many PT_NOTEs pointing at the same bytes
    cannot multiply the reads.
    """
    notes: list[Note] = []
    budget = MAX_NOTE_BYTES
    for header in program_headers:
        if header.p_type != "PT_NOTE":
            continue
        length = min(header.p_filesz, size - header.p_offset, budget)
        if length <= 0:
            continue
        stream.seek(header.p_offset)
        notes += iter_notes(stream.read(length), byte_order)
        budget -= length
    return notes


def iter_notes(data: bytes, byte_order: str) -> Iterator[Note]:
    """Notes in a PT_NOTE's bytes; stops at the first one that does not fit."""
    position = 0
    while position + 12 <= len(data):
        name_size, desc_size, note_type = struct.unpack_from(byte_order + "III", data, position)
        desc_start = position + 12 + align4(name_size)
        desc_end = desc_start + desc_size
        if desc_end > len(data):
            return
        name = data[position + 12 : position + 12 + name_size].rstrip(b"\0")
        yield Note(name=name, type=note_type, desc=data[desc_start:desc_end])
        position = desc_start + align4(desc_size)


def align4(value: int) -> int:
    return (value + 3) & ~3


def mapped_files_from(notes: Sequence[Note], elfclass: int, byte_order: str) -> list[MappedFile]:
    for note in notes:
        if note.name == b"CORE" and note.type == NT_FILE:
            return parse_nt_file(note.desc, elfclass, byte_order)
    return []


def parse_nt_file(desc: bytes, elfclass: int, byte_order: str) -> list[MappedFile]:
    """NT_FILE entries; only those whose whole record and path are present."""
    word = "I" if elfclass == 32 else "Q"
    word_size = struct.calcsize(word)
    if len(desc) < 2 * word_size:
        return []
    (count,) = struct.unpack_from(byte_order + word, desc, 0)
    # Each entry needs three words and at least a NUL: bounds count by the note size.
    count = min(count, (len(desc) - 2 * word_size) // (3 * word_size + 1))
    table_end = 2 * word_size + 3 * word_size * count
    ranges = struct.unpack_from(f"{byte_order}{3 * count}{word}", desc, 2 * word_size)
    paths = desc[table_end:].split(b"\0")[:count]
    return [
        MappedFile(start=ranges[3 * index], end=ranges[3 * index + 1], path=decode(path))
        for index, path in enumerate(paths)
    ]


def process_info_from(notes: Sequence[Note], elfclass: int, byte_order: str) -> ProcessInfo:
    for note in notes:
        if note.name == b"CORE" and note.type == NT_PRPSINFO:
            return parse_linux_prpsinfo(note.desc, elfclass, byte_order)
        if note.name == b"NetBSD-CORE" and note.type == NETBSD_CORE_PROCINFO:
            return parse_netbsd_procinfo(note.desc, byte_order)
    return ProcessInfo()


def parse_linux_prpsinfo(desc: bytes, elfclass: int, byte_order: str) -> ProcessInfo:
    """struct elf_prpsinfo: 4 chars, unsigned long pr_flag, uid, gid, 4 x pid_t, fname[16].

    ELF64: pr_flag at 8, pr_pid at 24.  ELF32: pr_flag at 4, uid/gid at 8 are
    16-bit on uid16 architectures (i386, arm, m68k, ...: desc is 124 bytes) and
    32-bit elsewhere (128 bytes), so pr_pid is at 12 or 16.
    """
    uid16 = elfclass == 32 and len(desc) == 124
    pid_offset = 24 if elfclass == 64 else 12 if uid16 else 16
    fname_offset = pid_offset + 16
    if len(desc) < fname_offset + 16:
        return ProcessInfo()
    (pid,) = struct.unpack_from(byte_order + "i", desc, pid_offset)
    return ProcessInfo(name=c_string(desc[fname_offset : fname_offset + 16]), pid=pid)


def parse_netbsd_procinfo(desc: bytes, byte_order: str) -> ProcessInfo:
    """netbsd_elfcore_procinfo: 4 int32, 4 x sigset (16 bytes), then cpi_pid at 80,
    ppid/pgrp/sid, six uid/gid words, cpi_nlwps, cpi_name[32] at 124."""
    if len(desc) < 156:
        return ProcessInfo()
    (pid,) = struct.unpack_from(byte_order + "i", desc, 80)
    return ProcessInfo(name=c_string(desc[124:156]), pid=pid)


def c_string(field: bytes) -> str | None:
    text = decode(field.split(b"\0", 1)[0])
    return text or None


def decode(raw: bytes) -> str:
    # Paths and command names are bytes on Unix; keep undecodable ones visible.
    return raw.decode("utf-8", errors="backslashreplace")


def name_regions(regions: Sequence[Region], mapped_files: Sequence[MappedFile]) -> Iterator[Region]:
    """Give each region the path NT_FILE maps at its start address."""
    ordered = sorted(mapped_files, key=lambda mapped: mapped.start)
    starts = [mapped.start for mapped in ordered]
    for region in regions:
        mapped = mapped_file_at(region.address, ordered, starts)
        yield region if mapped is None else replace(region, name=mapped.path, module=mapped.path)


def mapped_file_at(
    address: int | None, ordered: Sequence[MappedFile], starts: Sequence[int]
) -> MappedFile | None:
    if address is None:
        return None
    index = bisect.bisect_right(starts, address) - 1
    if index >= 0 and address < ordered[index].end:
        return ordered[index]
    return None
