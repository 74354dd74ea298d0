"""systemd-coredump files: a real gcore compressed the way systemd-coredump compresses cores.

systemd-coredump stores /var/lib/systemd/coredump/core.COMM.UID.BOOTID.PID.USEC
plus ".zst", ".lz4" or ".xz", written by compress_stream_* in systemd's
src/basic/compress.c:

* zstd: ZSTD_compressStream2 at the default level with ZSTD_c_checksumFlag=1,
  streamed, so the frame header has no content size;
* lz4: LZ4F frame with preferences {.frameInfo.blockSizeID = 5} and the rest
  default: 256 KiB linked blocks, no content size, no content checksum;
* xz: lzma_easy_encoder(LZMA_PRESET_DEFAULT, LZMA_CHECK_CRC64).

The files here are made with the zstd, lz4 and xz tools set to the same
options, reading the core from stdin as systemd streams it, and the tests check
the frame headers say so.  xz uses preset 0 instead of 6 to keep the test
fast: the preset only changes the encoder's dictionary size and effort, not
the stream format (same .xz container, LZMA2 filter, CRC64 check).

These are plain compressed ELF cores: the existing zstd, lz4 and xz sources
open them; no source needed a change.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.clirun import scan_json
from tests.sources.pem_core import PemCore, dump_pem_holder

pytestmark = pytest.mark.slow

BOOT_ID = "3f2a9c4e1b7d4e0f8a6c2d1e5b9f7a30"
COMPRESSORS = {
    "zst": ["zstd", "-3", "--check", "-q", "-c"],
    "lz4": ["lz4", "-z", "-B5", "-BD", "--no-frame-crc", "-q", "-c"],
    "xz": ["xz", "-0", "--check=crc64", "-q", "-c"],
}
CONTAINER_NAMES = {"zst": "zstd", "lz4": "lz4", "xz": "xz"}


@pytest.fixture(scope="module")
def pem_core(tmp_path_factory: pytest.TempPathFactory) -> PemCore:
    return dump_pem_holder(tmp_path_factory.mktemp("systemd-core"))


def systemd_name(pem_core: PemCore, suffix: str) -> str:
    return f"core.python3.1000.{BOOT_ID}.{pem_core.pid}.1764349200000000.{suffix}"


def compress(core: bytes, suffix: str, target: Path) -> Path:
    """Compress like systemd-coredump: the core streamed through the tool's stdin."""
    compressed = subprocess.run(
        COMPRESSORS[suffix], input=core, capture_output=True, check=True, timeout=120
    ).stdout
    target.write_bytes(compressed)
    return target


def assert_systemd_settings(suffix: str, data: bytes) -> None:
    """The frame header carries systemd's settings (see the module docstring)."""
    if suffix == "zst":
        # RFC 8878 3.1.1.1.1: Frame_Header_Descriptor after the 4-byte magic.
        descriptor = data[4]
        assert descriptor >> 6 == 0  # Frame_Content_Size_flag: no content size field...
        assert not descriptor & 0x20  # ...and no Single_Segment_flag implying one
        assert descriptor & 0x04  # Content_Checksum_flag
    elif suffix == "lz4":
        # LZ4 frame format: FLG then BD after the magic.
        flags, block_descriptor = data[4], data[5]
        assert not flags & 0x20  # blocks linked (block independence flag clear)
        assert not flags & 0x08  # no content size
        assert not flags & 0x04  # no content checksum
        assert block_descriptor >> 4 & 0x07 == 5  # 256 KiB blocks
    else:
        # xz file format 2.1.1.2: stream flags 0x00 0x04 = CRC64.
        assert data[6:8] == b"\x00\x04"


@pytest.mark.parametrize("suffix", ["zst", "lz4", "xz"])
def test_a_systemd_coredump_file_is_opened_and_its_key_found(
    pem_core: PemCore, tmp_path: Path, suffix: str
) -> None:
    path = compress(pem_core.core.read_bytes(), suffix, tmp_path / systemd_name(pem_core, suffix))
    assert_systemd_settings(suffix, path.read_bytes()[:16])

    code, report = scan_json(path)

    assert code == 1
    (result,) = report["inputs"]
    assert (result["status"], result["format"], result["containers"]) == (
        "ok",
        "elf-core",
        [CONTAINER_NAMES[suffix]],
    )
    assert result["size"] == pem_core.core.stat().st_size
    found = [f for f in report["findings"] if f["fingerprint"] == pem_core.fingerprint]
    assert found
    assert {f["path"] for f in found} == {str(path)}


@pytest.mark.parametrize("suffix", ["zst", "lz4", "xz"])
def test_a_cut_coredump_file_is_an_error_and_other_files_are_scanned(
    pem_core: PemCore, tmp_path: Path, suffix: str
) -> None:
    whole = compress(pem_core.core.read_bytes(), suffix, tmp_path / "whole")
    cut = tmp_path / systemd_name(pem_core, suffix)
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])
    whole.rename(tmp_path / f"other.{suffix}")

    code, report = scan_json(cut, tmp_path / f"other.{suffix}")

    inputs = {Path(i["path"]).name: i for i in report["inputs"]}
    assert inputs[cut.name]["status"] == "error"
    assert f"truncated {CONTAINER_NAMES[suffix]} stream" in inputs[cut.name]["error"]
    assert inputs[f"other.{suffix}"]["status"] == "ok"
    assert code == 1


def test_a_core_cut_by_process_size_max_then_compressed_fails_closed(
    pem_core: PemCore, tmp_path: Path
) -> None:
    """systemd-coredump stops reading a core at ProcessSizeMax and compresses what it read."""
    core = pem_core.core.read_bytes()
    path = compress(core[: len(core) // 2], "zst", tmp_path / systemd_name(pem_core, "zst"))

    code, report = scan_json(path)

    (result,) = report["inputs"]
    assert (result["status"], result["format"]) == ("error", "elf-core")
    assert "past end of file" in result["error"]
    assert code in (1, 2)
