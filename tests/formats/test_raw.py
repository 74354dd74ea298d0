"""Raw reader, the reader registry and describe()."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.errors import FormatError
from scanner.formats import READERS, describe, reader_for
from scanner.formats.base import Dump, Region
from scanner.formats.elfcore import ElfCoreReader
from scanner.formats.minidump import MinidumpReader
from scanner.formats.raw import RawReader


def test_registry_tries_specific_formats_first_and_raw_last() -> None:
    names = [reader.name for reader in READERS]
    assert names == ["memory-image", "elf-core", "minidump", "hprof", "raw"]
    assert isinstance(READERS[-1], RawReader)


def test_heads_pick_their_reader() -> None:
    elf_core_head = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x04\x00"
    assert isinstance(reader_for(elf_core_head), ElfCoreReader)
    assert isinstance(reader_for(b"MDMP\x93\xa7\x00\x00"), MinidumpReader)
    assert isinstance(reader_for(b"JAVA PROFILE 1.0.2\x00"), RawReader)
    assert isinstance(reader_for(b""), RawReader)
    assert isinstance(reader_for(b"\x7fEL"), RawReader)  # too short to be an ELF header


def test_raw_file_is_one_region_from_offset_zero(tmp_path: Path) -> None:
    path = tmp_path / "memory.bin"
    path.write_bytes(os.urandom(5000))

    dump = RawReader().read(path, 5000)

    assert dump == Dump(format="raw", regions=(Region(file_offset=0, size=5000),))
    (region,) = dump.regions
    assert (region.address, region.permissions, region.name, region.module) == (None,) * 4


def test_empty_raw_file_has_no_region(tmp_path: Path) -> None:
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")
    assert RawReader().read(path, 0).regions == ()


def test_describe_gives_json_ready_headers_for_inspect() -> None:
    dump = Dump(
        format="elf-core",
        regions=(
            Region(
                file_offset=0x1000,
                size=0x2000,
                address=0x400000,
                permissions="r-x",
                name="/usr/bin/demo",
                module="/usr/bin/demo",
            ),
            Region(file_offset=0x3000, size=0x10, address=0x7F0000, permissions="rw-"),
        ),
        process_name="demo",
        pid=42,
        defects=("segment 3 (PT_LOAD at address 0x900000): dropped",),
    )

    described = describe(dump)

    assert json.loads(json.dumps(described)) == {
        "format": "elf-core",
        "process_name": "demo",
        "pid": 42,
        "defects": ["segment 3 (PT_LOAD at address 0x900000): dropped"],
        "regions": [
            {
                "file_offset": 0x1000,
                "size": 0x2000,
                "address": 0x400000,
                "permissions": "r-x",
                "name": "/usr/bin/demo",
                "module": "/usr/bin/demo",
            },
            {
                "file_offset": 0x3000,
                "size": 0x10,
                "address": 0x7F0000,
                "permissions": "rw-",
                "name": None,
                "module": None,
            },
        ],
    }


HEADS = st.one_of(
    st.binary(max_size=300),
    st.binary(max_size=300).map(lambda tail: b"MDMP" + tail),
    st.binary(max_size=300).map(lambda tail: b"\x7fELF" + tail),
)


@settings(max_examples=300, deadline=2000)
@given(data=HEADS)
def test_any_bytes_give_a_dump_or_a_format_error(fuzz_dir: Path, data: bytes) -> None:
    path = fuzz_dir / "any.bin"
    path.write_bytes(data)
    try:
        dump = reader_for(data[:4096]).read(path, len(data))
    except FormatError as error:
        message = str(error)
    else:
        assert all(region.file_end <= len(data) for region in dump.regions)
        return
    assert message.startswith(f"{path}: ")
