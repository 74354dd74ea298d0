"""Spec-exact memory-image writers for the tests (no real sample of these can be made here).

Each writer takes physical ranges [(physical address, bytes), ...] and lays
them out as the published format stores them:

* LiME: lime_mem_range_header {u32 magic 0x4C694D45, u32 version 1, u64
  s_addr, u64 e_addr (inclusive), u8 reserved[8]} before each range's bytes
  (LiME's doc/README.md "LiME Memory Range Header Version 1").
* AVML, as microsoft/avml's image.rs writes it: each range cut into blocks of
  at most 16 MiB (MAX_BLOCK_SIZE), all-zero blocks left out; per block the
  LiME header with magic 0x4C4D5641 and version 2, the bytes as a snappy
  framing-format stream (google/snappy framing_format.txt: stream identifier,
  then one chunk per 64 KiB with the masked CRC-32C of its bytes, compressed
  (type 0x00) where that saves at least 1/8, as the `snap` crate's
  FrameEncoder decides, else stored (type 0x01)) and a u64 of the stream's
  length.  The compressed chunks are real snappy: the system libsnappy.so.1's
  snappy_compress (ctypes; the library volatility3 decompresses with).
  Without that library every chunk is stored uncompressed.
* Windows crash dumps: DUMP_HEADER64 ("PAGE" "DU64", two pages, unused bytes
  filled with "PAGE" as the kernel does), PHYSICAL_MEMORY_DESCRIPTOR64 at
  0x88 {ULONG NumberOfRuns; ULONG64 NumberOfPages; PHYSICAL_MEMORY_RUN64
  Run[] {BasePage, PageCount}}, DumpType at 0xF98 (1 full: runs' pages back
  to back from 0x2000; 5 bitmap: SUMMARY_DUMP "FDMP" at 0x2000 with
  HeaderSize at +0x20, Pages at +0x28, BitmapSize at +0x30 and the page
  bitmap at +0x38, present pages back to back from HeaderSize).
* ELF vmcores as QEMU's dump-guest-memory writes them (qemu dump/dump.c):
  ELF64 ET_CORE, PT_NOTE first (a "CORE" NT_PRSTATUS and a "QEMU" note per
  vCPU), then one PT_LOAD per RAM block with p_paddr = guest physical
  address, p_vaddr = 0 (no paging) and p_filesz == p_memsz.
* Xen dump-core (xen docs/misc/dump-core-format.txt): ELF64 ET_CORE with no
  program headers; sections .shstrtab, .note.Xen, .xen_prstatus,
  .xen_shared_info, .xen_pfn (u64 PFN per page, for an auto-translated guest)
  and .xen_pages (the pages, in .xen_pfn order).
* VMware: the .vmss checkpoint header {u32 magic 0xbed2bed2, u32, u32
  groupCount}, 80-byte groups {char name[64], u64 tagsOffset, u64 size}, and
  the "memory" group's tags regionsCount / regionPPN[i] / regionPageNum[i] /
  regionSize[i] (volatility3's layers/vmware.py reads exactly these).
"""

from __future__ import annotations

import ctypes
import functools
import struct
from collections.abc import Sequence

PAGE = 0x1000
Ranges = Sequence[tuple[int, bytes]]


def lime(ranges: Ranges) -> bytes:
    out = bytearray()
    for start, data in ranges:
        out += struct.pack("<IIQQQ", 0x4C694D45, 1, start, start + len(data) - 1, 0) + data
    return bytes(out)


AVML_BLOCK = 0x1000 * 0x1000  # avml image.rs MAX_BLOCK_SIZE
SNAPPY_CHUNK = 0x10000  # framing_format.txt 4.2/4.3: at most 65536 bytes per chunk
SNAPPY_COMPRESSED, SNAPPY_UNCOMPRESSED, SNAPPY_STREAM_ID = 0x00, 0x01, 0xFF


def avml(ranges: Ranges) -> bytes:
    out = bytearray()
    for start, data in ranges:
        for block_start in range(0, len(data), AVML_BLOCK):
            block = data[block_start : block_start + AVML_BLOCK]
            if not any(block):
                continue  # image.rs copy_if_nonzero
            first = start + block_start
            stream = snappy_stream(block)
            out += struct.pack("<IIQQQ", 0x4C4D5641, 2, first, first + len(block) - 1, 0)
            out += stream + struct.pack("<Q", len(stream))
    return bytes(out)


def snappy_stream(data: bytes) -> bytes:
    """The framing format as snap's FrameEncoder writes it (see the module docstring)."""
    out = bytearray(snappy_frame(SNAPPY_STREAM_ID, b"sNaPpY"))
    for chunk_start in range(0, len(data), SNAPPY_CHUNK):
        chunk = data[chunk_start : chunk_start + SNAPPY_CHUNK]
        compressed = snappy_compress(chunk)
        if compressed is not None and len(compressed) < len(chunk) - len(chunk) // 8:
            out += snappy_frame(SNAPPY_COMPRESSED, masked_crc32c(chunk) + compressed)
        else:
            out += snappy_frame(SNAPPY_UNCOMPRESSED, masked_crc32c(chunk) + chunk)
    return bytes(out)


def snappy_frame(chunk_type: int, body: bytes) -> bytes:
    return bytes([chunk_type]) + len(body).to_bytes(3, "little") + body


@functools.cache
def snappy_library() -> ctypes.CDLL | None:
    try:
        library = ctypes.CDLL("libsnappy.so.1")
    except OSError:
        return None
    library.snappy_max_compressed_length.restype = ctypes.c_size_t
    library.snappy_max_compressed_length.argtypes = [ctypes.c_size_t]
    return library


def snappy_compress(data: bytes) -> bytes | None:
    """snappy-c.h snappy_compress, or None without the library."""
    library = snappy_library()
    if library is None:
        return None
    length = ctypes.c_size_t(library.snappy_max_compressed_length(len(data)))
    out = ctypes.create_string_buffer(length.value)
    status = library.snappy_compress(data, ctypes.c_size_t(len(data)), out, ctypes.byref(length))
    assert status == 0, f"snappy_compress status {status}"
    return out.raw[: length.value]


def crc32c_table() -> list[int]:
    """CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), byte-wise table."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
        table.append(crc)
    return table


CRC32C_TABLE = crc32c_table()


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc = CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> bytes:
    """framing_format.txt 3: ((crc >> 15) | (crc << 17)) + 0xa282ead8, little-endian."""
    crc = crc32c(data)
    return struct.pack("<I", (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF)


def page_runs(ranges: Ranges) -> list[tuple[int, int, bytes]]:
    """(base page, page count, page-padded bytes) per range; ranges must be page-aligned."""
    runs = []
    for start, data in ranges:
        assert start % PAGE == 0
        pages = -(-len(data) // PAGE)
        runs.append((start // PAGE, pages, data.ljust(pages * PAGE, b"\0")))
    return runs


def crash_header64(dump_type: int, runs: Sequence[tuple[int, int, bytes]]) -> bytearray:
    header = bytearray(b"PAGE" * (0x2000 // 4))
    header[0:8] = b"PAGEDU64"
    struct.pack_into("<II", header, 8, 15, 19041)  # MajorVersion, MinorVersion
    struct.pack_into("<Q", header, 0x10, 0x1AD000)  # DirectoryTableBase
    struct.pack_into("<II", header, 0x30, 0x8664, 1)  # MachineImageType AMD64, processors
    struct.pack_into("<IIQ", header, 0x88, len(runs), 0, sum(r[1] for r in runs))
    for index, (base_page, page_count, _) in enumerate(runs):
        struct.pack_into("<QQ", header, 0x98 + 16 * index, base_page, page_count)
    struct.pack_into("<I", header, 0xF98, dump_type)
    return header


def windows_full_crash(ranges: Ranges) -> bytes:
    runs = page_runs(ranges)
    header = crash_header64(1, runs)
    body = b"".join(data for _, _, data in runs)
    struct.pack_into("<Q", header, 0xFA0, len(header) + len(body))  # RequiredDumpSpace
    return bytes(header) + body


def windows_bitmap_crash(ranges: Ranges, total_pages: int) -> bytes:
    runs = page_runs(ranges)
    header = crash_header64(5, runs)
    bitmap = bytearray(-(-total_pages // 32) * 4)
    pages: dict[int, bytes] = {}
    for base_page, page_count, data in runs:
        for index in range(page_count):
            pages[base_page + index] = data[index * PAGE : (index + 1) * PAGE]
            bitmap[(base_page + index) // 8] |= 1 << ((base_page + index) % 8)
    summary_size = 0x38 + len(bitmap)
    header_size = -(-(0x2000 + summary_size) // PAGE) * PAGE
    summary = bytearray(b"FDMPDUMP") + bytes(summary_size - 8)
    struct.pack_into("<QQQ", summary, 0x20, header_size, len(pages), total_pages)
    summary[0x38:] = bitmap
    body = b"".join(pages[page] for page in sorted(pages))
    padding = bytes(header_size - 0x2000 - len(summary))
    return bytes(header) + bytes(summary) + padding + body


def elf_note(name: bytes, note_type: int, desc: bytes) -> bytes:
    name += b"\0"
    return (
        struct.pack("<III", len(name), len(desc), note_type)
        + name.ljust(-(-len(name) // 4) * 4, b"\0")
        + desc.ljust(-(-len(desc) // 4) * 4, b"\0")
    )


def elf64_header(phnum: int, shoff: int = 0, shnum: int = 0, shstrndx: int = 0) -> bytes:
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    return ident + struct.pack(
        "<HHIQQQIHHHHHH", 4, 62, 1, 0, 64 if phnum else 0, shoff, 0, 64, 56, phnum, 64,
        shnum, shstrndx,
    )  # fmt: skip


def qemu_vmcore(ranges: Ranges, memsz_extra: int = 0) -> bytes:
    """`memsz_extra` > 0 makes the last PT_LOAD's p_memsz larger than its p_filesz, as
    makedumpfile's ELF output does for pages it filtered out."""
    notes = elf_note(b"CORE", 1, bytes(336)) + elf_note(b"QEMU", 0, bytes(0x1B0))
    phnum = 1 + len(ranges)
    data_start = 64 + 56 * phnum
    loads_start = data_start + len(notes)
    headers = [struct.pack("<IIQQQQQQ", 4, 0, data_start, 0, 0, len(notes), len(notes), 0)]
    offset = loads_start
    for index, (start, data) in enumerate(ranges):
        memsz = len(data) + (memsz_extra if index == len(ranges) - 1 else 0)
        headers.append(struct.pack("<IIQQQQQQ", 1, 7, offset, 0, start, len(data), memsz, 0))
        offset += len(data)
    return elf64_header(phnum) + b"".join(headers) + notes + b"".join(d for _, d in ranges)


def xen_core(ranges: Ranges) -> bytes:
    runs = page_runs(ranges)
    pfns = [base + index for base, count, _ in runs for index in range(count)]
    pages = b"".join(data for _, _, data in runs)
    names = [b"", b".shstrtab", b".note.Xen", b".xen_prstatus", b".xen_shared_info",
             b".xen_pfn", b".xen_pages"]  # fmt: skip
    shstrtab = b"\0".join(names) + b"\0"
    name_offsets = [shstrtab.index(name + b"\0") if name else 0 for name in names]
    note = elf_note(b"Xen", 0x2000001, bytes(8))  # XEN_ELFNOTE_DUMPCORE_NONE
    bodies = [b"", shstrtab, note, bytes(0x100), bytes(PAGE), struct.pack(f"<{len(pfns)}Q", *pfns)]
    section_types = [0, 3, 7, 1, 1, 1, 1]  # SHT_NULL, SHT_STRTAB, SHT_NOTE, SHT_PROGBITS...
    shoff = 64
    offset = shoff + 64 * len(names)
    sections, blobs = [], bytearray()
    for index, body in enumerate([*bodies]):
        sections.append((index, offset + len(blobs), len(body)))
        blobs += body
    pages_offset = -(-(offset + len(blobs)) // PAGE) * PAGE
    sections.append((len(bodies), pages_offset, len(pages)))
    headers = b"".join(
        struct.pack(
            "<IIQQQQIIQQ", name_offsets[index], section_types[index], 0, 0, sh_offset, sh_size,
            0, 0, 8, 0,
        )
        for index, sh_offset, sh_size in sections
    )  # fmt: skip
    head = elf64_header(0, shoff, len(names), 1) + headers + blobs
    return head + bytes(pages_offset - len(head)) + pages


def vmware_vmss(regions: Sequence[tuple[int, int, int]]) -> bytes:
    """A .vmss whose memory group maps (physical page, .vmem page, page count) regions."""
    tags = bytearray(tag(b"regionsCount", (), len(regions)))
    for index, (ppn, page_number, count) in enumerate(regions):
        tags += tag(b"regionPPN", (index,), ppn)
        tags += tag(b"regionPageNum", (index,), page_number)
        tags += tag(b"regionSize", (index,), count)
    tags += b"\0\0"  # flags 0, name length 0: end of tags
    groups_offset = 12
    tags_offset = groups_offset + 80
    group = b"memory".ljust(64, b"\0") + struct.pack("<QQ", tags_offset, len(tags))
    return struct.pack("<III", 0xBED2BED2, 0, 1) + group + tags


def tag(name: bytes, indices: tuple[int, ...], value: int) -> bytes:
    """A 4-byte-valued tag: flags = (index count << 6) | data length, name length, name,
    u32 indices, u32 value."""
    flags = (len(indices) << 6) | 4
    packed = b"".join(struct.pack("<I", index) for index in indices)
    return bytes([flags, len(name)]) + name + packed + struct.pack("<I", value)
