"""Minidump reader: a spec-exact test minidump, the corpus, cut and hostile files."""

from __future__ import annotations

import logging
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from minidump.minidumpfile import MinidumpFile

from scanner.errors import FormatError
from scanner.formats import reader_for
from scanner.formats.base import Dump
from scanner.formats.minidump import MinidumpReader

CORPUS_MINIDUMPS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "minidump"

READER = MinidumpReader()
MODULE_LIST_STREAM, MEMORY_LIST_STREAM, MEMORY64_LIST_STREAM, MISC_INFO_STREAM = 4, 5, 9, 15
FUZZ_INPUTS = {
    "rust-minidump_rust-minidump__invalid-range.dmp",
    "rust-minidump_rust-minidump__invalid-record-count.dmp",
}
# Breakpad pads the u32 counts of MemoryList and ModuleList to 8 bytes here; the
# minidump package does not skip the pad (rust-minidump and we do), so it misreads
# both lists and cannot serve as the reference for this file.
PADDED_MEMORY_LIST = "getsentry_symbolic__crash_macos.dmp"


@dataclass(frozen=True)
class Module:
    base: int
    size: int
    path: str


@dataclass(frozen=True)
class SampleMinidump:
    """A minidump from the test writer and where its memory went."""

    data: bytes
    memory64_rvas: tuple[int, ...]
    memory_rvas: tuple[int, ...]


class Writer:
    """Appends blobs and hands out their RVAs (file offsets)."""

    def __init__(self, start: int) -> None:
        self.blob = bytearray(start)

    def append(self, data: bytes) -> int:
        rva = len(self.blob)
        self.blob += data
        return rva


def minidump_string(text: str) -> bytes:
    """MINIDUMP_STRING: u32 Length in bytes (without the terminator), UTF-16LE, NUL."""
    encoded = text.encode("utf-16-le")
    return struct.pack("<I", len(encoded)) + encoded + b"\0\0"


def module_record(module: Module, name_rva: int) -> bytes:
    """MINIDUMP_MODULE, 108 bytes: image, VS_FIXEDFILEINFO, CvRecord, MiscRecord, reserved."""
    fixed_file_info = struct.pack("<I", 0xFEEF04BD) + bytes(48)
    head = struct.pack("<QIIII", module.base, module.size, 0, 0, name_rva)
    return head + fixed_file_info + bytes(8 + 8 + 16)


def build_minidump(
    memory64: Sequence[tuple[int, bytes]],
    memory: Sequence[tuple[int, bytes]] = (),
    modules: Sequence[Module] = (),
    pid: int | None = None,
) -> SampleMinidump:
    """A minidump written by this test from the minidumpapiset.h layouts, not by a dumper.

    Streams: ModuleList, MiscInfo (MINIDUMP_MISC_INFO, 24 bytes), MemoryList,
    Memory64List; the Memory64 data comes last and back to back from BaseRva,
    as MiniDumpWriteDump lays out full-memory dumps.
    """
    stream_count = 4
    writer = Writer(32 + 12 * stream_count)
    streams = []

    name_rvas = [writer.append(minidump_string(module.path)) for module in modules]
    records = b"".join(map(module_record, modules, name_rvas))
    module_list = struct.pack("<I", len(modules)) + records
    streams.append((MODULE_LIST_STREAM, len(module_list), writer.append(module_list)))

    flags1 = 1 if pid is not None else 0
    misc_info = struct.pack("<6I", 24, flags1, pid or 0, 0, 0, 0)
    streams.append((MISC_INFO_STREAM, len(misc_info), writer.append(misc_info)))

    memory_rvas = [writer.append(data) for _, data in memory]
    descriptors = b"".join(
        struct.pack("<QII", address, len(data), rva)
        for (address, data), rva in zip(memory, memory_rvas, strict=True)
    )
    memory_list = struct.pack("<I", len(memory)) + descriptors
    streams.append((MEMORY_LIST_STREAM, len(memory_list), writer.append(memory_list)))

    memory64_list_size = 16 + 16 * len(memory64)
    base_rva = len(writer.blob) + memory64_list_size
    memory64_list = struct.pack("<QQ", len(memory64), base_rva) + b"".join(
        struct.pack("<QQ", address, len(data)) for address, data in memory64
    )
    streams.append((MEMORY64_LIST_STREAM, memory64_list_size, writer.append(memory64_list)))
    memory64_rvas = [writer.append(data) for _, data in memory64]

    header = struct.pack("<4sIIIIIQ", b"MDMP", 0xA793, stream_count, 32, 0, 0, 0)
    directory = b"".join(struct.pack("<III", *stream) for stream in streams)
    writer.blob[: 32 + len(directory)] = header + directory
    return SampleMinidump(bytes(writer.blob), tuple(memory64_rvas), tuple(memory_rvas))


APP = Module(base=0x140000000, size=0x10000, path="C:\\Program Files\\Demo\\app.exe")
NTDLL = Module(base=0x7FFA00000000, size=0x200000, path="C:\\Windows\\System32\\ntdll.dll")
IMAGE_PAGE = (0x140001000, b"I" * 0x40)
HEAP_PAGE = (0x2000000, b"H" * 0x30)
NTDLL_PAGE = (0x7FFA00010000, b"N" * 0x20)
STACK = (0xE000, b"S" * 0x18)


def sample_minidump() -> SampleMinidump:
    return build_minidump(
        memory64=[IMAGE_PAGE, HEAP_PAGE, NTDLL_PAGE],
        memory=[STACK],
        modules=[APP, NTDLL],
        pid=4242,
    )


def write(tmp_path: Path, data: bytes, name: str = "sample.dmp") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read(path: Path) -> Dump:
    return READER.read(path, path.stat().st_size)


def test_memory64_ranges_follow_each_other_from_base_rva(tmp_path: Path) -> None:
    sample = sample_minidump()
    path = write(tmp_path, sample.data)

    assert isinstance(reader_for(sample.data[:4096]), MinidumpReader)
    dump = read(path)

    assert (dump.format, dump.pid, dump.process_name, dump.defects) == (
        "minidump",
        4242,
        "app.exe",
        (),
    )
    stack, image, heap, ntdll = dump.regions
    assert [(r.file_offset, r.address) for r in (image, heap, ntdll)] == [
        (rva, address)
        for rva, (address, _) in zip(
            sample.memory64_rvas, [IMAGE_PAGE, HEAP_PAGE, NTDLL_PAGE], strict=True
        )
    ]
    assert image.file_offset + image.size == heap.file_offset == ntdll.file_offset - heap.size
    planted_pages = [STACK, IMAGE_PAGE, HEAP_PAGE, NTDLL_PAGE]
    for region, (_, planted) in zip(dump.regions, planted_pages, strict=True):
        assert sample.data[region.file_offset : region.file_end] == planted
    assert (stack.file_offset, stack.address) == (sample.memory_rvas[0], STACK[0])


def test_regions_are_named_by_the_module_image_holding_them(tmp_path: Path) -> None:
    dump = read(write(tmp_path, sample_minidump().data))

    names = {region.address: (region.name, region.module) for region in dump.regions}
    assert names[IMAGE_PAGE[0]] == (APP.path, APP.path)
    assert names[NTDLL_PAGE[0]] == (NTDLL.path, NTDLL.path)
    assert names[HEAP_PAGE[0]] == (None, None)
    assert all(region.permissions is None for region in dump.regions)


def test_test_writer_agrees_with_the_minidump_package(tmp_path: Path) -> None:
    """Keeps the test writer honest: an independent parser reads the same minidump."""
    sample = sample_minidump()
    parsed = parse_with_minidump_package(write(tmp_path, sample.data))

    assert [
        (segment.start_virtual_address, segment.size, segment.start_file_address)
        for segment in parsed.memory_segments_64.memory_segments
    ] == [
        (address, len(data), rva)
        for (address, data), rva in zip(
            [IMAGE_PAGE, HEAP_PAGE, NTDLL_PAGE], sample.memory64_rvas, strict=True
        )
    ]
    assert [module.name for module in parsed.modules.modules] == [APP.path, NTDLL.path]
    assert parsed.misc_info.ProcessId == 4242


def test_no_module_list_and_no_process_id_leave_name_and_pid_unknown(tmp_path: Path) -> None:
    dump = read(write(tmp_path, build_minidump(memory64=[HEAP_PAGE]).data))

    assert (dump.process_name, dump.pid) == (None, None)
    assert [region.address for region in dump.regions] == [HEAP_PAGE[0]]


def test_memory_cut_by_end_of_file_is_clipped_and_reported(tmp_path: Path) -> None:
    sample = sample_minidump()
    heap_rva = sample.memory64_rvas[1]
    cut = heap_rva + 0x10
    dump = read(write(tmp_path, sample.data[:cut]))

    assert [(r.address, r.size) for r in dump.regions] == [
        (STACK[0], len(STACK[1])),
        (IMAGE_PAGE[0], len(IMAGE_PAGE[1])),
        (HEAP_PAGE[0], 0x10),
    ]
    clipped, dropped = dump.defects
    assert clipped == (
        f"memory range 2 (address 0x{HEAP_PAGE[0]:x}): file bytes 0x{heap_rva:x}-"
        f"0x{heap_rva + 0x30:x} run past end of file at 0x{cut:x}; clipped to 0x10 bytes"
    )
    assert dropped.startswith(f"memory range 3 (address 0x{NTDLL_PAGE[0]:x})")
    assert dropped.endswith("; dropped")


def test_cut_inside_the_stream_directory_is_a_format_error(tmp_path: Path) -> None:
    path = write(tmp_path, sample_minidump().data[:40])
    with pytest.raises(FormatError, match=r"sample\.dmp: directory of 4 streams at 0x20\+0x30"):
        read(path)


def test_record_count_larger_than_its_stream_is_a_format_error(tmp_path: Path) -> None:
    data = bytearray(sample_minidump().data)
    memory_list_rva = struct.unpack_from("<I", data, 32 + 2 * 12 + 8)[0]
    struct.pack_into("<I", data, memory_list_rva, 0xFFFFFFFF)
    with pytest.raises(FormatError, match="MemoryListStream claims 4294967295 records"):
        read(write(tmp_path, bytes(data)))


def test_unknown_minidump_version_is_a_format_error(tmp_path: Path) -> None:
    data = bytearray(sample_minidump().data)
    struct.pack_into("<I", data, 4, 0x1234)
    with pytest.raises(FormatError, match="unknown minidump version 0x1234"):
        read(write(tmp_path, bytes(data)))


def parse_with_minidump_package(path: Path) -> MinidumpFile:
    # The package logs a traceback when a dump has no PEB (non-Windows dumps).
    logging.disable(logging.CRITICAL)
    try:
        return MinidumpFile.parse(str(path))
    finally:
        logging.disable(logging.NOTSET)


def well_formed_corpus_minidumps() -> list[str]:
    """Corpus minidumps the minidump package reads right (not fuzz, not padded)."""
    if not CORPUS_MINIDUMPS.is_dir():
        return ["corpus-absent"]
    names = {path.name for path in CORPUS_MINIDUMPS.glob("*.dmp")}
    return sorted(names - FUZZ_INPUTS - {PADDED_MEMORY_LIST})


@pytest.mark.parametrize("name", sorted(FUZZ_INPUTS))
def test_corpus_fuzz_inputs_are_format_errors_naming_the_file(corpus: Path, name: str) -> None:
    path = corpus / "minidump" / name
    with pytest.raises(FormatError, match=r"runs past end of file") as raised:
        read(path)
    assert str(raised.value).startswith(f"{path}: stream ")


@pytest.mark.parametrize("name", well_formed_corpus_minidumps())
def test_corpus_minidump_regions_and_modules_match_the_minidump_package(
    corpus: Path, name: str
) -> None:
    path = corpus / "minidump" / name
    dump = read(path)
    parsed = parse_with_minidump_package(path)

    assert dump.defects == ()
    assert sorted((r.address, r.size, r.file_offset) for r in dump.regions) == sorted(
        package_ranges(parsed)
    )
    modules = parsed.modules.modules if parsed.modules else []
    for region in dump.regions:
        assert region.module == module_holding(region.address, modules)
    if parsed.misc_info is not None and parsed.misc_info.ProcessId is not None:
        assert dump.pid == parsed.misc_info.ProcessId
    if modules:
        assert dump.process_name is not None
        assert modules[0].name.replace("\\", "/").endswith("/" + dump.process_name)


def package_ranges(parsed: MinidumpFile) -> list[tuple[int, int, int]]:
    segments = []
    for memory_list in (parsed.memory_segments, parsed.memory_segments_64):
        if memory_list is not None:
            segments += memory_list.memory_segments
    return [
        (segment.start_virtual_address, segment.size, segment.start_file_address)
        for segment in segments
        if segment.size > 0
    ]


def module_holding(address: int | None, modules: Sequence[Any]) -> str | None:
    assert address is not None
    for module in modules:
        if module.baseaddress <= address < module.baseaddress + module.size:
            return str(module.name)
    return None


def test_breakpad_padded_lists_are_read_after_the_pad(corpus: Path) -> None:
    """crash_macos.dmp: MemoryList is 8 + 2*16 bytes and ModuleList 8 + 43*108: each
    u32 count is followed by 4 pad bytes.  Read after the pad, the ranges are the
    crashing thread's stack and the code around the crash address in the executable."""
    dump = read(corpus / "minidump" / PADDED_MEMORY_LIST)

    executable = "/Users/jauer/Coding/breakpad/examples/target/crash_macos"
    assert [(r.address, r.size, r.file_offset, r.module) for r in dump.regions] == [
        (0x7FFF5DAA35F8, 0xA08, 0xB0, None),
        (0x10215D321, 0x100, 0xFB0, executable),
    ]
    assert (dump.process_name, dump.defects) == ("crash_macos", ())


MDMP_HEADERS = st.builds(
    lambda count, rva, tail: struct.pack("<4sIII", b"MDMP", 0xA793, count, rva) + tail,
    st.integers(0, 64),
    st.integers(0, 256),
    st.binary(max_size=600),
)


def dump_or_format_error(path: Path) -> None:
    """The only outcomes a reader may have: a Dump whose regions lie in the file, or FormatError."""
    size = path.stat().st_size
    try:
        dump = reader_for(path.read_bytes()[:4096]).read(path, size)
    except FormatError as error:
        message = str(error)
    else:
        assert all(region.file_end <= size for region in dump.regions)
        return
    assert message.startswith(f"{path}: ")
    assert "\n" not in message


@settings(max_examples=200, deadline=2000)
@given(data=MDMP_HEADERS)
def test_random_bytes_after_minidump_header_give_dump_or_format_error(
    fuzz_dir: Path, data: bytes
) -> None:
    path = write(fuzz_dir, data, "random.dmp")
    dump_or_format_error(path)


@settings(max_examples=200, deadline=2000)
@given(data=st.data())
def test_mutated_and_truncated_test_minidump_gives_dump_or_format_error(
    fuzz_dir: Path, data: st.DataObject
) -> None:
    blob = bytearray(sample_minidump().data)
    for _ in range(data.draw(st.integers(0, 8))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(blob)))
    dump_or_format_error(write(fuzz_dir, bytes(blob[:cut]), "mutated.dmp"))


@settings(max_examples=100, deadline=2000)
@given(data=st.data())
def test_truncated_corpus_minidump_gives_dump_or_format_error(
    corpus: Path, fuzz_dir: Path, data: st.DataObject
) -> None:
    blob = (corpus / "minidump" / "google_breakpad__minidump2.dmp").read_bytes()
    cut = data.draw(st.integers(0, len(blob)))
    dump_or_format_error(write(fuzz_dir, blob[:cut], "truncated.dmp"))
