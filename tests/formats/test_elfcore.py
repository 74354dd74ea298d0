"""ELF core reader: real gcore dumps, small spec-exact cores, cut and corrupt files."""

from __future__ import annotations

import _ssl
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.errors import FormatError
from scanner.formats import reader_for
from scanner.formats.base import MAX_DEFECTS, Dump
from scanner.formats.elfcore import ElfCoreReader
from scanner.formats.raw import RawReader

if TYPE_CHECKING:
    from tests.formats.conftest import GcoreDump

READER = ElfCoreReader()
PT_LOAD, PT_NOTE = 1, 4
PF_X, PF_W, PF_R = 1, 2, 4
NT_PRPSINFO, NT_FILE = 3, 0x46494C45
EM_386, EM_PPC, EM_S390, EM_X86_64 = 3, 20, 22, 62


@dataclass(frozen=True)
class Segment:
    vaddr: int
    flags: int
    data: bytes  # b"": a segment the core writer did not dump (p_filesz 0)


@dataclass(frozen=True)
class CoreLayout:
    """What the test writer put where, to check the reader against."""

    data: bytes
    load_offsets: tuple[int, ...]


def note(name: bytes, note_type: int, desc: bytes, order: str) -> bytes:
    """gABI note: namesz, descsz, type, then name and desc each padded to 4 bytes."""
    name_field = name + b"\0"
    header = struct.pack(order + "III", len(name_field), len(desc), note_type)
    return header + pad4(name_field) + pad4(desc)


def pad4(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def prpsinfo(elfclass: int, order: str, uid16: bool, pid: int, fname: bytes) -> bytes:
    """Linux struct elf_prpsinfo (include/uapi/linux/elfcore.h)."""
    if elfclass == 64:
        layout = "4B4xQIIiiii16s80s"  # 136 bytes
    else:
        layout = "4BIHHiiii16s80s" if uid16 else "4BIIIiiii16s80s"  # 124 / 128 bytes
    return struct.pack(order + layout, 0, 0, 0, 0, 0, 0, 0, pid, 1, pid, pid, fname, b"args")


def nt_file(elfclass: int, order: str, mapped: list[tuple[int, int, bytes]]) -> bytes:
    """fs/binfmt_elf.c fill_files_note: count, page size, {start, end, pgoff}..., paths."""
    word = "I" if elfclass == 32 else "Q"
    table = struct.pack(order + word * 2, len(mapped), 4096)
    for start, end, _ in mapped:
        table += struct.pack(order + word * 3, start, end, 0)
    return table + b"".join(path + b"\0" for _, _, path in mapped)


def build_elf_core(
    elfclass: int,
    order: str,
    machine: int,
    segments: list[Segment],
    notes: bytes,
) -> CoreLayout:
    """A spec-exact ELF core (gABI header and program headers) written by this test.

    Layout: ELF header, program headers (PT_NOTE first, then one PT_LOAD per
    segment), the notes, then each dumped segment's bytes back to back.
    """
    header_size, phdr_size = (52, 32) if elfclass == 32 else (64, 56)
    phnum = 1 + len(segments)
    notes_offset = header_size + phnum * phdr_size
    offset = notes_offset + len(notes)
    notes_header = ProgramHeader(PT_NOTE, 0, notes_offset, 0, len(notes), 0, align=4)
    phdrs = [notes_header.pack(elfclass, order)]
    load_offsets = []
    for segment in segments:
        memsz = len(segment.data) or 0x1000
        load = ProgramHeader(
            PT_LOAD, segment.flags, offset, segment.vaddr, len(segment.data), memsz
        )
        phdrs.append(load.pack(elfclass, order))
        load_offsets.append(offset)
        offset += len(segment.data)
    ident = b"\x7fELF" + bytes([1 if elfclass == 32 else 2, 1 if order == "<" else 2, 1, 0])
    word = "I" if elfclass == 32 else "Q"
    header = ident.ljust(16, b"\0") + struct.pack(
        f"{order}HHI{word}{word}{word}IHHHHHH",
        4,
        machine,
        1,
        0,
        header_size,
        0,
        0,
        header_size,
        phdr_size,
        phnum,
        0,
        0,
        0,
    )
    body = notes + b"".join(segment.data for segment in segments)
    return CoreLayout(data=header + b"".join(phdrs) + body, load_offsets=tuple(load_offsets))


@dataclass(frozen=True)
class ProgramHeader:
    """gABI Elf32_Phdr / Elf64_Phdr (the 64-bit one moves p_flags up)."""

    p_type: int
    flags: int
    offset: int
    vaddr: int
    filesz: int
    memsz: int
    align: int = 0x1000

    def pack(self, elfclass: int, order: str) -> bytes:
        if elfclass == 32:
            fields = (self.offset, self.vaddr, 0, self.filesz, self.memsz, self.flags)
            return struct.pack(order + "8I", self.p_type, *fields, self.align)
        fields = (self.offset, self.vaddr, 0, self.filesz, self.memsz, self.align)
        return struct.pack(order + "2I6Q", self.p_type, self.flags, *fields)


VARIANTS = [
    pytest.param(32, "<", EM_386, True, id="elf32-le-i386"),
    pytest.param(32, ">", EM_PPC, False, id="elf32-be-ppc"),
    pytest.param(64, "<", EM_X86_64, False, id="elf64-le-x86_64"),
    pytest.param(64, ">", EM_S390, False, id="elf64-be-s390x"),
]
LIBRARY = b"/usr/lib/libdemo.so.1"


def sample_core(elfclass: int, order: str, machine: int, uid16: bool) -> CoreLayout:
    """Three PT_LOADs: a mapped library (r-x), anonymous heap (rw-), one not dumped."""
    segments = [
        Segment(vaddr=0x10000, flags=PF_R | PF_X, data=b"L" * 0x100),
        Segment(vaddr=0x20000, flags=PF_R | PF_W, data=b"H" * 0x80),
        Segment(vaddr=0x30000, flags=PF_R, data=b""),
    ]
    notes = note(b"CORE", NT_PRPSINFO, prpsinfo(elfclass, order, uid16, 4242, b"demo"), order)
    notes += note(b"CORE", NT_FILE, nt_file(elfclass, order, [(0x10000, 0x11000, LIBRARY)]), order)
    return build_elf_core(elfclass, order, machine, segments, notes)


def write(tmp_path: Path, data: bytes, name: str = "sample.core") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read(path: Path) -> Dump:
    return READER.read(path, path.stat().st_size)


@pytest.mark.parametrize(("elfclass", "order", "machine", "uid16"), VARIANTS)
def test_reads_regions_names_and_process_of_each_class_and_byte_order(
    tmp_path: Path, elfclass: int, order: str, machine: int, uid16: bool
) -> None:
    layout = sample_core(elfclass, order, machine, uid16)
    path = write(tmp_path, layout.data)

    assert isinstance(reader_for(layout.data[:4096]), ElfCoreReader)
    dump = read(path)

    assert dump.format == "elf-core"
    assert (dump.process_name, dump.pid, dump.defects) == ("demo", 4242, ())
    library, heap = dump.regions  # the p_filesz == 0 segment is skipped
    assert (library.file_offset, library.size, library.address) == (
        layout.load_offsets[0],
        0x100,
        0x10000,
    )
    assert (library.permissions, library.name, library.module) == (
        "r-x",
        LIBRARY.decode(),
        LIBRARY.decode(),
    )
    assert (heap.file_offset, heap.size, heap.address) == (layout.load_offsets[1], 0x80, 0x20000)
    assert (heap.permissions, heap.name, heap.module) == ("rw-", None, None)


@pytest.mark.parametrize(("elfclass", "order", "machine", "uid16"), VARIANTS)
def test_test_writer_output_is_read_the_same_by_binutils_readelf(
    tmp_path: Path, elfclass: int, order: str, machine: int, uid16: bool
) -> None:
    """Keeps the test writer honest: an independent ELF reader sees the same core."""
    if shutil.which("readelf") is None:
        pytest.skip("binutils readelf not installed")
    path = write(tmp_path, sample_core(elfclass, order, machine, uid16).data)
    listing = subprocess.run(
        ["readelf", "-lnW", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert "Core file" in listing
    assert listing.count("  LOAD ") == 3
    assert "NT_PRPSINFO" in listing
    if elfclass == 32:  # Debian's readelf 2.40 cannot decode 64-bit NT_FILE notes
        assert f"0x00010000  0x00011000  0x00000000\n        {LIBRARY.decode()}" in listing


def test_segment_cut_by_end_of_file_is_clipped_and_reported(tmp_path: Path) -> None:
    layout = sample_core(64, "<", EM_X86_64, False)
    cut = layout.load_offsets[1] + 0x20  # inside the heap segment
    dump = read(write(tmp_path, layout.data[:cut]))

    heap = dump.regions[1]
    assert (heap.file_offset, heap.size) == (layout.load_offsets[1], 0x20)
    (defect,) = dump.defects
    assert defect.startswith("segment 2 (PT_LOAD at address 0x20000)")
    assert f"0x{layout.load_offsets[1]:x}-0x{layout.load_offsets[1] + 0x80:x}" in defect
    assert f"end of file at 0x{cut:x}" in defect
    assert "clipped to 0x20 bytes" in defect


def test_segment_wholly_past_end_of_file_is_dropped_and_reported(tmp_path: Path) -> None:
    layout = sample_core(32, ">", EM_PPC, False)
    dump = read(write(tmp_path, layout.data[: layout.load_offsets[1]]))

    assert [region.address for region in dump.regions] == [0x10000]
    (defect,) = dump.defects
    assert defect.startswith("segment 2 ")
    assert defect.endswith("dropped")


@pytest.mark.parametrize(
    "non_core", [Path(sys.executable).resolve(), Path(_ssl.__file__)], ids=["executable", "so"]
)
def test_elf_executable_or_library_is_not_a_core_and_falls_to_raw(
    tmp_path: Path, non_core: Path
) -> None:
    head = non_core.read_bytes()[:4096]
    assert not READER.probe(head)
    assert isinstance(reader_for(head), RawReader)
    with pytest.raises(FormatError, match="not a core"):
        READER.read(non_core, non_core.stat().st_size)


def test_wrong_program_header_size_is_a_format_error_naming_the_file(tmp_path: Path) -> None:
    data = bytearray(sample_core(64, "<", EM_X86_64, False).data)
    struct.pack_into("<H", data, 54, 40)  # e_phentsize
    path = write(tmp_path, bytes(data))
    with pytest.raises(FormatError, match=r"sample\.core: e_phentsize is 40, expected 56"):
        read(path)


def test_program_header_table_past_end_of_file_is_a_format_error(tmp_path: Path) -> None:
    data = bytearray(sample_core(32, "<", EM_386, True).data)
    struct.pack_into("<I", data, 28, 0x7FFFFFF0)  # e_phoff
    with pytest.raises(FormatError, match=r"program header table .* runs past end of file"):
        read(write(tmp_path, bytes(data)))


def test_garbage_after_the_core_magic_is_a_format_error(tmp_path: Path) -> None:
    path = write(tmp_path, b"\x7fELF\x07\x01\x01\x00" + bytes(8) + b"\x04\x00" + b"\xff" * 40)
    with pytest.raises(FormatError, match=r"^.*sample\.core: corrupt ELF core header: "):
        read(path)


@pytest.mark.slow
def test_gcore_dump_of_live_process_names_process_and_finds_marker(
    gcore_dump: GcoreDump,
) -> None:
    head = gcore_dump.core.read_bytes()[:4096]
    assert isinstance(reader_for(head), ElfCoreReader)
    dump = read(gcore_dump.core)

    assert (dump.format, dump.pid, dump.process_name) == (
        "elf-core",
        gcore_dump.pid,
        gcore_dump.comm,
    )
    assert dump.defects == ()
    (region,) = [
        region
        for region in dump.regions
        if region.address is not None
        and region.address <= gcore_dump.marker_address < region.address + region.size
    ]
    assert region.address is not None
    with gcore_dump.core.open("rb") as core:
        core.seek(region.file_offset + gcore_dump.marker_address - region.address)
        assert core.read(len(gcore_dump.marker)) == gcore_dump.marker
    assert region.module is None  # pymalloc arena: anonymous memory
    assert region.permissions == "rw-"


@pytest.mark.slow
def test_gcore_regions_are_named_as_in_proc_maps(gcore_dump: GcoreDump) -> None:
    """NT_FILE names agree with /proc/<pid>/maps read while the process ran."""
    mapped_path = {mapping.start: mapping.path for mapping in gcore_dump.mappings}
    dump = read(gcore_dump.core)

    for region in dump.regions:
        assert region.address in mapped_path, f"region at 0x{region.address:x} not in maps"
        assert region.module == mapped_path[region.address]
        assert region.name == region.module
    modules = {region.module for region in dump.regions}
    assert any(module and "/libc" in module for module in modules)
    assert None in modules


@pytest.mark.slow
def test_gcore_dump_cut_in_half_keeps_what_is_there(gcore_dump: GcoreDump, tmp_path: Path) -> None:
    whole = read(gcore_dump.core)
    cut = gcore_dump.core.stat().st_size // 2
    path = tmp_path / "cut.core"
    with gcore_dump.core.open("rb") as source, path.open("wb") as target:
        target.write(source.read(cut))

    dump = read(path)

    # gdb writes its notes after the memory, so the cut file has lost the names.
    expected = [
        (region.file_offset, min(region.file_end, cut), region.address, region.permissions)
        for region in whole.regions
        if region.file_offset < cut
    ]
    kept = [(r.file_offset, r.file_end, r.address, r.permissions) for r in dump.regions]
    assert kept == expected
    cut_segments = [region for region in whole.regions if region.file_end > cut]
    first_cut = cut_segments[0]
    assert f"0x{first_cut.file_offset:x}-0x{first_cut.file_end:x}" in dump.defects[0]
    if len(cut_segments) <= MAX_DEFECTS:
        assert len(dump.defects) == len(cut_segments)
    else:  # the rest are counted, not listed
        assert len(dump.defects) == MAX_DEFECTS + 1
        hidden = len(cut_segments) - MAX_DEFECTS
        assert dump.defects[-1] == f"... and {hidden} more segments cut the same way"


CORE_HEADER_PREFIXES = st.sampled_from(
    [
        b"\x7fELF\x01\x01\x01\x00" + bytes(8) + b"\x04\x00",
        b"\x7fELF\x01\x02\x01\x00" + bytes(8) + b"\x00\x04",
        b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x04\x00",
        b"\x7fELF\x02\x02\x01\x00" + bytes(8) + b"\x00\x04",
    ]
)
HYPOTHESIS = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


def dump_or_format_error(path: Path) -> None:
    """The only outcomes a reader may have: a Dump whose regions lie in the file, or FormatError."""
    size = path.stat().st_size
    try:
        dump = reader_for(path.read_bytes()[:4096]).read(path, size)
    except FormatError as error:
        message = str(error)
    else:
        assert all(region.file_offset >= 0 for region in dump.regions)
        assert all(region.file_end <= size for region in dump.regions)
        return
    assert message.startswith(f"{path}: ")
    assert "\n" not in message


@HYPOTHESIS
@given(prefix=CORE_HEADER_PREFIXES, tail=st.binary(max_size=600))
def test_random_bytes_after_core_header_give_dump_or_format_error(
    fuzz_dir: Path, prefix: bytes, tail: bytes
) -> None:
    path = fuzz_dir / "random.core"
    path.write_bytes(prefix + tail)
    dump_or_format_error(path)


@HYPOTHESIS
@given(data=st.data())
def test_mutated_and_truncated_sample_cores_give_dump_or_format_error(
    fuzz_dir: Path, data: st.DataObject
) -> None:
    variant = data.draw(st.sampled_from([(32, "<", EM_386, True), (64, ">", EM_S390, False)]))
    core = bytearray(sample_core(*variant).data)
    for _ in range(data.draw(st.integers(0, 8))):
        core[data.draw(st.integers(0, 400))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(core)))
    path = fuzz_dir / "mutated.core"
    path.write_bytes(bytes(core[:cut]))
    dump_or_format_error(path)


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(fraction=st.floats(0, 1))
def test_truncated_gcore_dump_gives_dump_or_format_error(
    gcore_dump: GcoreDump, fuzz_dir: Path, fraction: float
) -> None:
    size = gcore_dump.core.stat().st_size
    # Half the examples cut inside the headers and notes, where parsing happens.
    cut = int(fraction * (size if fraction > 0.5 else 65536))
    path = fuzz_dir / "truncated.core"
    with gcore_dump.core.open("rb") as source:
        path.write_bytes(source.read(cut))
    dump_or_format_error(path)
