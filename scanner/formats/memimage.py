"""Memory images through volatility3's physical layers, not a parser of our own.

LiME, Windows kernel crash dumps (full and bitmap), ELF vmcores (Linux
kdump, QEMU dump-guest-memory) and Xen dump-core files: volatility3's layer
stackers choose the physical layer on top of a FileLayer over the input, as
`vol` does before any plugin runs, and dumpguard stops there (no symbol
tables, no OS translation layer, no plugin).  The layer's segments, each
(physical address, file offset, length, stored length), become the regions,
with physical addresses; `Dump.layers` names the stack ("FileLayer",
"LimeLayer").

Bytes: each segment of these layers lies contiguously in the file (a LiME
range, a crash-dump run or run of set bitmap bits, a PT_LOAD, a Xen page),
so its region is streamed from the file by the chunk scanner, in chunks,
byte for byte what the layer's `read` returns (the tests check this against
the layer).  A segment stored encoded (stored length != length) could not be
streamed that way: it would be left out and recorded as a defect, so the
input fails closed.  Segments are never joined unless they continue each
other both in physical memory and in the file.

Routed elsewhere, and why:
* AVML images (snappy-compressed LiME) are a container: the avml source
  (scanner/sources/avml.py) decodes them through volatility3's AVML layer,
  with the helpers below, into a LiME member that this reader reads.
* Raw images (no header) stay with the raw reader: one region from offset 0,
  and for a plain `dd`/`/dev/mem`-style image the file offset is the physical
  address.
* VMware .vmem files are raw memory without a header; volatility3 finds
  their .vmss/.vmsn by the .vmem file name, and readers are chosen by the
  first bytes, so a .vmem is read by the raw reader.
* QEMU savevm (QEVM) files: volatility3's layer reads the file's tail
  backwards into memory until it meets a NUL and regex-scans the whole file
  for the machine type; neither is bounded on hostile input.
* ELF32 vmcores: volatility3's ELF layer is ELF64 only; the ELF core reader
  reads them (virtual addresses).

Offline: volatility3 is imported once with its cache in a temporary
directory, OFFLINE set and symbol search paths limited to the tables inside
the package (the crash-dump and ELF layers need their bundled JSON type
tables).  No symbol download, no plugin; its loggers are silenced.

Hostile input: the counts volatility3 trusts (crash-dump runs and bitmap
size) are checked against the header and the file size first; every error
of volatility3 becomes one FormatError line naming the file.
"""

from __future__ import annotations

import atexit
import contextlib
import enum
import functools
import logging
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.errors import FormatError, ScannerError
from scanner.formats.base import Dump, DumpReader, Region, cap_defects, clip_to_file
from scanner.formats.elfcore import PARSE_ERRORS, parse_headers

# LiME: struct lime_mem_range_header {u32 magic 0x4C694D45; u32 version 1; ...}.
LIME_HEAD = struct.pack("<II", 0x4C694D45, 1)
ELF64_CORE = struct.Struct("<4sBBBxxxxxxxxxHHIQQQIHHH")  # e_ident .. e_phnum, LE
ELF64_PHDR = struct.Struct("<IIQQQQQQ")  # p_type, p_flags, p_offset, p_vaddr, p_paddr, ...
PT_LOAD, PT_NOTE = 1, 4
NT_PRPSINFO, NT_FILE = 3, 0x46494C45
# Notes only kernel images carry: kdump's VMCOREINFO, QEMU dump-guest-memory's QEMU.
KERNEL_NOTE_NAMES = {b"VMCOREINFO", b"QEMU"}


class ImageKind(enum.Enum):
    """What the first bytes say; each names the volatility3 stacker that must take it."""

    LIME = ("LiME image", "LimeStacker")
    WINDOWS_CRASH = ("Windows crash dump", "WindowsCrashDumpStacker")
    ELF_VMCORE = ("ELF vmcore", "Elf64Stacker")
    XEN_CORE = ("Xen dump-core", "XenCoreDumpStacker")

    @property
    def label(self) -> str:
        return self.value[0]

    @property
    def stacker(self) -> str:
        return self.value[1]


def image_kind(head: bytes) -> ImageKind | None:
    """The memory-image family `head` starts, or None (process cores are not images)."""
    if head.startswith(LIME_HEAD):
        return ImageKind.LIME
    if head[:8] in CRASH_LAYOUTS:
        return ImageKind.WINDOWS_CRASH
    if is_elf64_le_core(head):
        if b".xen_pages\0" in head:
            return ImageKind.XEN_CORE
        if is_kernel_vmcore(head):
            return ImageKind.ELF_VMCORE
    return None


def is_elf64_le_core(head: bytes) -> bool:
    """ELFCLASS64, little-endian, ET_CORE: what volatility3's ELF and Xen layers read."""
    if len(head) < ELF64_CORE.size:
        return False
    magic, elf_class, data, _, e_type = ELF64_CORE.unpack_from(head)[:5]
    return bool(magic == b"\x7fELF" and elf_class == 2 and data == 1 and e_type == 4)


def is_kernel_vmcore(head: bytes) -> bool:
    """A kdump or QEMU vmcore, not a process core.

    Decided by the notes when they lie in `head`: process cores carry
    NT_PRPSINFO and NT_FILE, kdump a VMCOREINFO note, QEMU a "QEMU" note.
    Otherwise by the program headers: Linux and gdb write p_paddr = 0 in
    process cores, while a vmcore's PT_LOADs carry physical addresses.
    """
    headers = program_headers_in(head)
    note_names = {name for header in headers for name in note_names_in(head, header)}
    if note_names & {("CORE", NT_PRPSINFO), ("CORE", NT_FILE)}:
        return False
    if any(name.encode() in KERNEL_NOTE_NAMES for name, _ in note_names):
        return True
    return any(header[0] == PT_LOAD and header[4] != 0 for header in headers)


def program_headers_in(head: bytes) -> list[tuple[int, ...]]:
    *_, e_phoff, _, _, _, e_phentsize, e_phnum = ELF64_CORE.unpack_from(head)
    if e_phentsize != ELF64_PHDR.size:
        return []
    count = max(0, min(e_phnum, (len(head) - e_phoff) // ELF64_PHDR.size))
    return [ELF64_PHDR.unpack_from(head, e_phoff + i * ELF64_PHDR.size) for i in range(count)]


def note_names_in(head: bytes, header: tuple[int, ...]) -> Iterator[tuple[str, int]]:
    """(name, type) of the notes of a PT_NOTE whose bytes lie in `head`."""
    if header[0] != PT_NOTE:
        return
    position, end = header[2], min(header[2] + header[5], len(head))
    while position + 12 <= end:
        name_size, desc_size, note_type = struct.unpack_from("<III", head, position)
        name = head[position + 12 : position + 12 + name_size].rstrip(b"\0")
        yield name.decode("latin-1"), note_type
        position += 12 + align4(name_size) + align4(desc_size)


def align4(value: int) -> int:
    return (value + 3) & ~3


@dataclass(frozen=True)
class CrashLayout:
    """Where volatility3's crash.json / crash64.json put the fields it trusts.

    DUMP_HEADER (32-bit, one page) and DUMP_HEADER64 (two pages):
    PhysicalMemoryBlockBuffer {NumberOfRuns, NumberOfPages, Run[]} ends where
    ContextRecord starts; DumpType 1 is a full dump, 5 a bitmap dump whose
    _SUMMARY_DUMP follows the header (BitmapSize at +0x30, bitmap at +0x38).
    """

    header_size: int
    runs_count_offset: int
    runs_offset: int
    runs_end: int
    run_size: int
    dump_type_offset: int


CRASH_LAYOUTS = {
    b"PAGEDUMP": CrashLayout(0x1000, 0x64, 0x6C, 0x320, 8, 0xF88),
    b"PAGEDU64": CrashLayout(0x2000, 0x88, 0x98, 0x348, 16, 0xF98),
}
CRASH_DUMP_TYPES = {
    1: "full",
    2: "kernel summary",
    3: "header only",
    4: "triage",
    5: "bitmap full",
    6: "bitmap kernel",
    7: "automatic",
}
SUPPORTED_CRASH_TYPES = {1, 5}
SUMMARY_BITMAP_SIZE_OFFSET, SUMMARY_BITMAP_OFFSET = 0x30, 0x38


def check_crash_dump(path: Path, size: int) -> None:
    """Refuse what volatility3 would loop over unbounded, and name unsupported types."""
    with path.open("rb") as stream:
        header = stream.read(0x2000 + SUMMARY_BITMAP_OFFSET)
    layout = CRASH_LAYOUTS[header[:8]]
    if len(header) < layout.header_size:
        raise FormatError(
            f"{path}: Windows crash dump cut inside its 0x{layout.header_size:x}-byte header"
        )
    (dump_type,) = struct.unpack_from("<I", header, layout.dump_type_offset)
    if dump_type not in SUPPORTED_CRASH_TYPES:
        name = CRASH_DUMP_TYPES.get(dump_type, "unknown")
        raise FormatError(
            f"{path}: Windows crash dump type {dump_type} ({name}) is not readable by "
            "volatility3, which reads full (1) and bitmap (5) dumps only"
        )
    if dump_type == 1:
        check_run_count(path, header, layout)
    else:
        check_bitmap_size(path, header, layout, size)


def check_run_count(path: Path, header: bytes, layout: CrashLayout) -> None:
    (runs,) = struct.unpack_from("<I", header, layout.runs_count_offset)
    room = (layout.runs_end - layout.runs_offset) // layout.run_size
    if runs > room:
        raise FormatError(
            f"{path}: Windows crash dump claims {runs} physical memory runs; "
            f"its header holds at most {room}"
        )


def check_bitmap_size(path: Path, header: bytes, layout: CrashLayout, size: int) -> None:
    summary = layout.header_size
    if len(header) < summary + SUMMARY_BITMAP_OFFSET:
        raise FormatError(f"{path}: bitmap crash dump cut inside its summary header")
    (bits,) = struct.unpack_from("<Q", header, summary + SUMMARY_BITMAP_SIZE_OFFSET)
    bitmap_end = summary + SUMMARY_BITMAP_OFFSET + (bits + 31) // 32 * 4
    if bitmap_end > size:
        raise FormatError(
            f"{path}: bitmap crash dump's page bitmap ({bits} bits) runs past "
            f"end of file (0x{size:x} bytes)"
        )


@dataclass(frozen=True)
class Volatility:
    """The parts of volatility3 this reader and the avml source use, imported once (see
    `volatility`); `avml` is volatility3's AVML layer module."""

    contexts: Any
    physical: Any
    configuration: Any
    stackers: tuple[Any, ...]
    avml: Any
    errors: tuple[type[BaseException], ...]

    @property
    def has_snappy(self) -> bool:
        """volatility3's own flag: it found the system snappy library (libsnappy.so.1)."""
        return bool(self.avml.HAS_SNAPPY)


@functools.cache
def volatility() -> Volatility:
    """volatility3, offline: cache in a temporary directory, bundled symbol tables only."""
    cache_dir = tempfile.mkdtemp(prefix="dumpguard-volatility3-")
    atexit.register(shutil.rmtree, cache_dir, True)
    # volatility3.framework.constants creates its cache directory at import time.
    with environment("XDG_CACHE_HOME", cache_dir):
        import volatility3.framework  # noqa: PLC0415  (slow import, only for memory images)
        from volatility3.framework import (  # noqa: PLC0415
            constants,
            contexts,
            exceptions,
            interfaces,
        )
        from volatility3.framework.layers import (  # noqa: PLC0415
            avml,
            crash,
            elf,
            lime,
            physical,
            xen,
        )
    constants.OFFLINE = True
    constants.REMOTE_ISF_URL = None
    constants.CACHE_PATH = cache_dir
    package_symbols = Path(volatility3.framework.__file__).parent / "symbols"
    constants.SYMBOL_BASEPATHS = [str(package_symbols)]
    silence_logger("volatility3")
    # stack_order first (as volatility3's LayerStacker sorts them); Xen before plain ELF64,
    # since a Xen dump-core is an ELF64 core too.  No AVMLStacker: AVML is the avml
    # source's, which walks the file before volatility3's AVML layer may see it.
    stackers = (
        lime.LimeStacker,
        xen.XenCoreDumpStacker,
        elf.Elf64Stacker,
        crash.WindowsCrashDumpStacker,
    )
    return Volatility(
        contexts=contexts,
        physical=physical,
        configuration=interfaces.configuration,
        stackers=tuple(sorted(stackers, key=lambda stacker: stacker.stack_order)),
        avml=avml,
        errors=(exceptions.VolatilityException, *GARBAGE_ERRORS),
    )


@contextlib.contextmanager
def environment(name: str, value: str) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            del os.environ[name]
        else:
            os.environ[name] = previous


def silence_logger(name: str) -> None:
    """volatility3 logs stacking attempts and warnings; quiet unless someone set a level."""
    logger = logging.getLogger(name)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.CRITICAL + 1)


# Errors volatility3 raises on garbage, besides its own VolatilityException.
GARBAGE_ERRORS = (*PARSE_ERRORS, OSError, AttributeError, ZeroDivisionError, RecursionError)


class MemoryImageReader(DumpReader):
    """Memory images by their first bytes; process cores go to the ELF core reader."""

    name = "memory-image"

    def probe(self, head: bytes) -> bool:
        return image_kind(head) is not None

    def read(self, path: Path, size: int) -> Dump:
        with path.open("rb") as stream:
            kind = image_kind(stream.read(4096))
        if kind is None:
            raise FormatError(f"{path}: not a memory image volatility3 can stack")
        precheck(kind, path, size)
        try:
            return read_through_volatility(kind, path, size)
        except ScannerError:
            raise
        except volatility().errors as error:
            reason = describe_error(error)
            raise FormatError(
                f"{path}: volatility3 cannot read this {kind.label}: {reason}"
            ) from error


def precheck(kind: ImageKind, path: Path, size: int) -> None:
    if kind is ImageKind.WINDOWS_CRASH:
        check_crash_dump(path, size)


def describe_error(error: BaseException) -> str:
    """One line: volatility3's LayerException holds (layer name, message).  Some layers
    pass the message alone, which the exception keeps as its layer name (AVMLLayer's
    "File not completely in AVML format")."""
    parts = [str(arg) for arg in error.args if isinstance(arg, (str, int))]
    layer_name = getattr(error, "layer_name", None)
    if not parts and isinstance(layer_name, str):
        parts = [layer_name]
    text = parts[-1] if parts else type(error).__name__
    return " ".join(text.split()) or type(error).__name__


def read_through_volatility(kind: ImageKind, path: Path, size: int) -> Dump:
    vol = volatility()
    context = vol.contexts.Context()
    file_layer = add_file_layer(vol, context, path)
    try:
        layer = stack_physical(vol, context, file_layer.name, kind, path)
        regions, defects = regions_of(segments_of(layer), size)
        if kind is ImageKind.ELF_VMCORE:
            defects += unmapped_load_segments(path, size)
        return Dump(
            format=MemoryImageReader.name,
            regions=tuple(regions),
            defects=cap_defects(defects, "segments"),
            layers=(type(file_layer).__name__, type(layer).__name__),
        )
    finally:
        file_layer.destroy()


def add_file_layer(vol: Volatility, context: Any, path: Path) -> Any:
    """volatility3's FileLayer over the input, by file:// URL (never anything remote)."""
    name = context.layers.free_layer_name("FileLayer")
    config_path = vol.configuration.path_join("dumpguard", name)
    context.config[vol.configuration.path_join(config_path, "location")] = path.resolve().as_uri()
    layer = vol.physical.FileLayer(context, config_path, name)
    context.add_layer(layer)
    return layer


def stack_physical(vol: Volatility, context: Any, base: str, kind: ImageKind, path: Path) -> Any:
    """The first stacker (in volatility3's order) that builds a layer on the file, and only it.

    Stacking stops at this physical layer: nothing is stacked on top (no
    Intel/OS translation layer, which would need symbol tables).  A stacker's
    exception is kept to explain a failure of the stacker `kind` expects.
    """
    reasons: dict[str, str] = {}
    for stacker in vol.stackers:
        try:
            layer = stacker.stack(context, base, None)
        except vol.errors as error:
            reasons[stacker.__name__] = describe_error(error)
            continue
        if layer is not None:
            context.layers.add_layer(layer)
            return layer
    reason = reasons.get(kind.stacker, f"its {kind.stacker} declined it")
    raise FormatError(
        f"{path}: volatility3 found no physical layer for this {kind.label}: {reason}"
    )


@dataclass(frozen=True, order=True)
class Segment:
    """One row of a volatility3 segmented layer: physical run -> file bytes."""

    address: int
    file_offset: int
    length: int
    stored_length: int


def segments_of(layer: Any) -> list[Segment]:
    """The layer's segment table, in its own order (LiME ranges, crash-dump runs, PT_LOADs).

    Read from the table rather than by walking `layer.mapping()`: a kdump
    vmcore's kernel-text PT_LOAD overlaps the direct-map PT_LOAD in physical
    memory, and the mapping walk (a bisect over the table) cannot show both.
    Every layer read here is a volatility3 NonLinearlySegmentedLayer, whose
    `_segments` rows are (address, mapped address, length, mapped length).
    """
    return list(iter_segments(layer))


def iter_segments(layer: Any) -> Iterator[Segment]:
    """`segments_of`, one row at a time (an AVML layer has a row per 64 KiB chunk)."""
    for row in layer._segments:
        yield Segment(*map(int, row))


def regions_of(segments: Sequence[Segment], size: int) -> tuple[list[Region], list[str]]:
    """A region per segment stored as is, clipped at the end of the file, by physical
    address; joined only where two continue each other in physical memory and in the file."""
    kept_regions: list[Region] = []
    defects: list[str] = []
    for index, segment in enumerate(segments):
        label = f"segment {index} (physical 0x{segment.address:x})"
        if segment.length != segment.stored_length:
            defects.append(
                f"{label}: 0x{segment.length:x} bytes stored encoded in 0x"
                f"{segment.stored_length:x} file bytes; not scanned"
            )
            continue
        kept, defect = clip_to_file(label, segment.file_offset, segment.length, size)
        if defect:
            defects.append(defect)
        if kept > 0:
            kept_regions.append(Region(segment.file_offset, kept, address=segment.address))
    regions: list[Region] = []
    for region in sorted(kept_regions, key=lambda region: (region.address, region.file_offset)):
        append_region(regions, region)
    return regions, defects


def append_region(regions: list[Region], region: Region) -> None:
    if regions:
        last = regions[-1]
        assert last.address is not None
        if last.file_end == region.file_offset and last.address + last.size == region.address:
            regions[-1] = Region(last.file_offset, last.size + region.size, address=last.address)
            return
    regions.append(region)


def unmapped_load_segments(path: Path, size: int) -> list[str]:
    """PT_LOADs volatility3's ELF layer leaves out: it maps only p_filesz == p_memsz, so a
    makedumpfile-filtered vmcore (p_filesz < p_memsz) loses those segments' file bytes."""
    with path.open("rb") as stream:
        _, program_headers = parse_headers(stream, path, size)
    return [
        f"segment {index} (PT_LOAD at physical 0x{header.p_paddr:x}): p_filesz 0x"
        f"{header.p_filesz:x} differs from p_memsz 0x{header.p_memsz:x}; volatility3's "
        "ELF layer does not map it, so its bytes are not scanned"
        for index, header in enumerate(program_headers)
        if header.p_type == "PT_LOAD" and 0 < header.p_filesz != header.p_memsz
    ]
