"""Minidump reader: a spec-exact test minidump, the corpus, cut and hostile files."""

from __future__ import annotations

import json
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
    extra_streams: Sequence[tuple[int, bytes]] = (),
) -> SampleMinidump:
    """A minidump written by this test from the minidumpapiset.h layouts, not by a dumper.

    Streams: ModuleList, MiscInfo (MINIDUMP_MISC_INFO, 24 bytes), then
    `extra_streams` (type, bytes), MemoryList, Memory64List; the Memory64 data
    comes last and back to back from BaseRva, as MiniDumpWriteDump lays out
    full-memory dumps.
    """
    stream_count = 4 + len(extra_streams)
    writer = Writer(32 + 12 * stream_count)
    streams = []

    name_rvas = [writer.append(minidump_string(module.path)) for module in modules]
    records = b"".join(map(module_record, modules, name_rvas))
    module_list = struct.pack("<I", len(modules)) + records
    streams.append((MODULE_LIST_STREAM, len(module_list), writer.append(module_list)))

    flags1 = 1 if pid is not None else 0
    misc_info = struct.pack("<6I", 24, flags1, pid or 0, 0, 0, 0)
    streams.append((MISC_INFO_STREAM, len(misc_info), writer.append(misc_info)))
    for stream_type, body in extra_streams:
        streams.append((stream_type, len(body), writer.append(body)))

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


def mutated_and_cut(data: st.DataObject, sample: bytes) -> bytes:
    """`sample` with up to eight bytes overwritten, cut at a drawn length."""
    blob = bytearray(sample)
    for _ in range(data.draw(st.integers(0, 8))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    return bytes(blob[: data.draw(st.integers(0, len(blob)))])


@settings(max_examples=200, deadline=2000)
@given(data=MDMP_HEADERS)
def test_random_bytes_after_minidump_header_give_dump_or_format_error(
    fuzz_dir: Path, data: bytes
) -> None:
    path = write(fuzz_dir, data, "random.dmp")
    dump_or_format_error(path)


@settings(max_examples=300, deadline=2000)
@given(data=st.data(), annotated=st.booleans())
def test_mutated_and_truncated_test_minidumps_give_dump_or_format_error(
    fuzz_dir: Path, data: st.DataObject, annotated: bool
) -> None:
    """The plain test minidump, and one with a MemoryInfoList and a ThreadList, their
    counts and records mutated and cut."""
    sample = annotated_minidump() if annotated else sample_minidump()
    dump_or_format_error(write(fuzz_dir, mutated_and_cut(data, sample.data), "mutated.dmp"))


@settings(max_examples=100, deadline=2000)
@given(data=st.data())
def test_truncated_corpus_minidump_gives_dump_or_format_error(
    corpus: Path, fuzz_dir: Path, data: st.DataObject
) -> None:
    blob = (corpus / "minidump" / "google_breakpad__minidump2.dmp").read_bytes()
    cut = data.draw(st.integers(0, len(blob)))
    dump_or_format_error(write(fuzz_dir, blob[:cut], "truncated.dmp"))


THREAD_LIST_STREAM, MEMORY_INFO_LIST_STREAM, LINUX_MAPS_STREAM = 3, 16, 0x47670009
PAGE_READONLY, PAGE_READWRITE, PAGE_EXECUTE_READ, PAGE_GUARD = 0x02, 0x04, 0x20, 0x100
MEM_COMMIT, MEM_RESERVE = 0x1000, 0x2000
MEM_IMAGE, MEM_MAPPED, MEM_PRIVATE = 0x1000000, 0x40000, 0x20000


@dataclass(frozen=True)
class MemoryInfo:
    base: int
    size: int
    protect: int
    type: int
    state: int = MEM_COMMIT


def thread_list_stream(threads: Sequence[tuple[int, int, int, int]]) -> bytes:
    """ThreadListStream: u32 count, MINIDUMP_THREAD {ThreadId, SuspendCount,
    PriorityClass, Priority, u64 Teb, Stack {u64 Start, u32 DataSize, u32 Rva},
    ThreadContext {u32 DataSize, u32 Rva}} per (tid, stack start, size, rva)."""
    records = b"".join(
        struct.pack("<IIIIQQIIII", tid, 0, 0x20, 0, 0x7FFDE000, start, size, rva, 0, 0)
        for tid, start, size, rva in threads
    )
    return struct.pack("<I", len(threads)) + records


def memory_info_list_stream(infos: Sequence[MemoryInfo]) -> bytes:
    """MINIDUMP_MEMORY_INFO_LIST {SizeOfHeader 16, SizeOfEntry 48, u64 count} + entries."""
    entries = b"".join(
        struct.pack(
            "<QQIIQIIII", info.base, info.base, info.protect, 0, info.size, info.state,
            info.protect, info.type, 0,
        )
        for info in infos
    )  # fmt: skip
    return struct.pack("<IIQ", 16, 48, len(infos)) + entries


# The sample's memory: the app.exe page (image), a heap range split in two by
# protection, a mapped view, and the stack (read-write, named by its thread).
HEAP_SPLIT = 0x10
INFOS = [
    MemoryInfo(APP.base, APP.size, PAGE_EXECUTE_READ, MEM_IMAGE),
    MemoryInfo(HEAP_PAGE[0], HEAP_SPLIT, PAGE_READWRITE, MEM_PRIVATE),
    MemoryInfo(
        HEAP_PAGE[0] + HEAP_SPLIT, 0x1000 - HEAP_SPLIT, PAGE_READONLY | PAGE_GUARD, MEM_PRIVATE
    ),
    MemoryInfo(NTDLL_PAGE[0], 0x1000, PAGE_READONLY, MEM_MAPPED),
    MemoryInfo(0xD000, 0x3000, PAGE_READWRITE, MEM_PRIVATE),
    MemoryInfo(0x5000000, 0x1000, 0, MEM_PRIVATE, MEM_RESERVE),
]
STACK_THREAD = 5150


def annotated_minidump() -> SampleMinidump:
    """The sample with a MemoryInfoList and a ThreadList (ntdll is left out of the module
    list so that its page is a mapped view, named by type)."""
    first = sample_minidump()
    threads = thread_list_stream([(STACK_THREAD, STACK[0], len(STACK[1]), first.memory_rvas[0])])
    extra = [
        (THREAD_LIST_STREAM, threads),
        (MEMORY_INFO_LIST_STREAM, memory_info_list_stream(INFOS)),
    ]
    sized = build_minidump([IMAGE_PAGE, HEAP_PAGE, NTDLL_PAGE], [STACK], [APP], 4242, extra)
    threads = thread_list_stream([(STACK_THREAD, STACK[0], len(STACK[1]), sized.memory_rvas[0])])
    extra[0] = (THREAD_LIST_STREAM, threads)
    return build_minidump([IMAGE_PAGE, HEAP_PAGE, NTDLL_PAGE], [STACK], [APP], 4242, extra)


def test_memory_info_gives_protection_and_cuts_ranges_at_its_entries(tmp_path: Path) -> None:
    sample = annotated_minidump()
    dump = read(write(tmp_path, sample.data))

    heap_rva = sample.memory64_rvas[1]
    assert [(r.address, r.size, r.file_offset, r.permissions, r.name) for r in dump.regions] == [
        (STACK[0], len(STACK[1]), sample.memory_rvas[0], "rw-", f"stack of thread {STACK_THREAD}"),
        (IMAGE_PAGE[0], len(IMAGE_PAGE[1]), sample.memory64_rvas[0], "r-x", APP.path),
        (HEAP_PAGE[0], HEAP_SPLIT, heap_rva, "rw-", "anonymous rw-"),
        (HEAP_PAGE[0] + HEAP_SPLIT, 0x20, heap_rva + HEAP_SPLIT, "r--", "anonymous r--"),
        (NTDLL_PAGE[0], len(NTDLL_PAGE[1]), sample.memory64_rvas[2], "r--", "mapped r--"),
    ]
    assert [r.module for r in dump.regions] == [None, APP.path, None, None, None]


def test_memory_info_and_threads_agree_with_the_minidump_package(tmp_path: Path) -> None:
    """The test writer's MemoryInfoList and ThreadList, read by an independent parser."""
    sample = annotated_minidump()
    parsed = parse_with_minidump_package(write(tmp_path, sample.data))
    dump = read(write(tmp_path, sample.data, "again.dmp"))

    # The package keeps Protect only when it is a bare PAGE_* value (not with PAGE_GUARD,
    # not 0 for reserved memory): AllocationProtect (written equal to Protect) is raw.
    assert [
        (i.BaseAddress, i.RegionSize, i.AllocationProtect, i.Type.value, i.State.value)
        for i in parsed.memory_info.infos
    ] == [(info.base, info.size, info.protect, info.type, info.state) for info in INFOS]
    (thread,) = parsed.threads.threads
    stack = next(r for r in dump.regions if r.address == thread.Stack.StartOfMemoryRange)
    assert stack.name == f"stack of thread {thread.ThreadId}"


def test_memory_info_count_past_its_stream_is_a_format_error(tmp_path: Path) -> None:
    body = bytearray(memory_info_list_stream(INFOS))
    struct.pack_into("<Q", body, 8, 1 << 40)
    data = build_minidump([HEAP_PAGE], extra_streams=[(MEMORY_INFO_LIST_STREAM, bytes(body))]).data
    with pytest.raises(FormatError, match="MemoryInfoListStream claims 1099511627776 entries"):
        read(write(tmp_path, data))


def test_linux_maps_name_and_protect_breakpad_regions(corpus: Path) -> None:
    """linux_overflow.dmp (breakpad, Linux): no MemoryInfoList, so protections come from
    its /proc/self/maps stream; the stack belongs to the crashing thread."""
    dump = read(corpus / "minidump" / "google_breakpad__linux_overflow.dmp")

    assert [(r.address, r.permissions, r.name) for r in dump.regions] == [
        (0x7FFF90D2B000, "rw-", "stack of thread 14782"),
        (0x7FCE0927B3F5, "r-x", "/lib/x86_64-linux-gnu/libc-2.13.so"),
    ]


def test_linux_maps_lines_name_mapped_files(tmp_path: Path) -> None:
    maps = (
        b"02000000-02001000 rw-p 00000000 00:00 0 \n"
        b"7ffa00000000-7ffa00200000 r--s 00000000 08:01 1234 /dev/shm/keys.bin\n"
        b"garbage line\n"
    )
    data = build_minidump([HEAP_PAGE, NTDLL_PAGE], extra_streams=[(LINUX_MAPS_STREAM, maps)]).data
    dump = read(write(tmp_path, data))

    assert [(r.permissions, r.name, r.module) for r in dump.regions] == [
        ("rw-", "anonymous rw-", None),
        ("r--", "/dev/shm/keys.bin", "/dev/shm/keys.bin"),
    ]


@pytest.mark.parametrize("name", well_formed_corpus_minidumps())
def test_corpus_thread_stacks_are_named_as_the_minidump_package_reads_them(
    corpus: Path, name: str
) -> None:
    path = corpus / "minidump" / name
    dump = read(path)
    parsed = parse_with_minidump_package(path)
    threads = parsed.threads.threads if parsed.threads else []
    modules = parsed.modules.modules if parsed.modules else []

    for region in dump.regions:
        if module_holding(region.address, modules) is not None:
            continue
        owner = next(
            (
                t.ThreadId
                for t in threads
                if t.Stack.StartOfMemoryRange
                <= (region.address or -1)
                < t.Stack.StartOfMemoryRange + t.Stack.MemoryLocation.DataSize
            ),
            None,
        )
        if owner is not None:
            assert region.name == f"stack of thread {owner}"


def test_cli_findings_name_stack_and_anonymous_regions(tmp_path: Path) -> None:
    """A PEM in a thread's stack and a DER key in private heap memory: each finding names
    its region, and carries its address."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    from tests.clirun import dumpguard
    from tests.keyfactory import SampleKey

    rsa_key = SampleKey("rsa2048", rsa.generate_private_key(65537, 2048))
    ec_key = SampleKey("p256", ec.generate_private_key(ec.SECP256R1()))
    stack = (0xD000, rsa_key.pem().ljust(0x800, b"\0"))
    heap = (HEAP_PAGE[0], ec_key.der().ljust(0x200, b"\0"))
    threads = thread_list_stream([(77, stack[0], len(stack[1]), 0)])
    infos = [MemoryInfo(0xD000, 0x1000, PAGE_READWRITE, MEM_PRIVATE),
             MemoryInfo(HEAP_PAGE[0], 0x1000, PAGE_READWRITE, MEM_PRIVATE)]  # fmt: skip
    extra = [
        (THREAD_LIST_STREAM, threads),
        (MEMORY_INFO_LIST_STREAM, memory_info_list_stream(infos)),
    ]
    path = write(tmp_path, build_minidump([heap], [stack], extra_streams=extra).data)

    run = dumpguard("scan", path, "--format", "json")

    assert run.code == 1, run.stderr
    found = {
        (f["fingerprint"], f["region"], f["address"]) for f in json.loads(run.stdout)["findings"]
    }
    assert found == {
        (rsa_key.fingerprint, "stack of thread 77", stack[0]),
        (ec_key.fingerprint, "anonymous rw-", heap[0]),
    }


def test_findings_in_anonymous_elf_core_memory_are_named_by_protection() -> None:
    """ELF cores name file mappings through NT_FILE (region name = module = path); an
    anonymous PT_LOAD has only its p_flags, so its findings say "anonymous rw-", as
    minidump findings do."""
    from scanner.findings import region_label
    from scanner.formats.base import Region

    anonymous = Region(0x1000, 0x1000, 0x7F0000000000, "rw-")
    mapped = Region(0x2000, 0x1000, 0x555500000000, "r--", "/usr/bin/openssl", "/usr/bin/openssl")
    assert region_label(anonymous) == "anonymous rw-"
    assert region_label(mapped) == "/usr/bin/openssl"
    assert region_label(Region(0, 10)) is None  # raw file: no address, no protection
