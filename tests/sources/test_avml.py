"""AVML images: decoded through volatility3's AVML layer into a LiME member, keys found in
snappy-compressed chunks at their physical addresses.

No real AVML image can be made here (avml, a Rust binary released on GitHub only, is
not installable from the registries), so the images are written by
tests/formats/memimage_writers.py from avml's image.rs and snappy's framing_format.txt,
with chunks really compressed by the system libsnappy (the library volatility3
decompresses with); volatility3's own AVML layer is the third-party reader the member
is checked against, byte for byte.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import struct
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.errors import ExpansionLimitError, FormatError, SourceError
from scanner.formats.memimage import MemoryImageReader, add_file_layer, volatility
from scanner.sources import container_for
from scanner.sources.avml import Avml
from scanner.sources.base import Blob, Spool
from tests.clirun import dumpguard, scan_json
from tests.formats import memimage_writers as writers
from tests.keyfactory import SampleKey

CHUNK = writers.SNAPPY_CHUNK
LOW, HIGH = 0x100000, 0x4000000
TAIL = HIGH + 2 * CHUNK  # a block that continues the HIGH block in physical memory
RSA_ADDRESS = LOW + 0x1235  # in LOW's first chunk: log text, compressed
ED25519_ADDRESS = LOW + CHUNK + 0x400  # in LOW's second chunk: random bytes, stored
DER_ADDRESS = HIGH + CHUNK - 0x30  # across HIGH's two chunks, both compressed
LOG_LINE = b"2026-11-28T17:00:00Z worker-3 handled request id=000123 status=200 in 12 ms\n"


@dataclass(frozen=True)
class Planted:
    rsa_key: SampleKey
    ec_key: SampleKey
    ed25519_key: SampleKey
    ranges: tuple[tuple[int, bytes], ...] = field(repr=False)  # holds the planted keys

    @property
    def expected(self) -> set[tuple[str, int, str]]:
        """(fingerprint, physical address, detector) of every planted key."""
        return {
            (self.rsa_key.fingerprint, RSA_ADDRESS, "pem"),
            (self.ed25519_key.fingerprint, ED25519_ADDRESS, "pem"),
            (self.ec_key.fingerprint, DER_ADDRESS, "der-sec1"),
        }


def log_text(size: int) -> bytearray:
    """Compressible context, as a process's log buffer is: snappy compresses its chunk."""
    return bytearray((LOG_LINE * (size // len(LOG_LINE) + 1))[:size])


def plant(buffer: bytearray, offset: int, data: bytes) -> None:
    buffer[offset : offset + len(data)] = data


@pytest.fixture(scope="module")
def planted() -> Planted:
    rsa_key = SampleKey("rsa2048", rsa.generate_private_key(65537, 2048))
    ec_key = SampleKey("p256", ec.generate_private_key(ec.SECP256R1()))
    ed25519_key = SampleKey("ed25519", ed25519.Ed25519PrivateKey.generate())
    low = log_text(2 * CHUNK)
    low[CHUNK:] = random.Random(7).randbytes(CHUNK)
    plant(low, RSA_ADDRESS - LOW, rsa_key.pem())
    plant(low, ED25519_ADDRESS - LOW, ed25519_key.pem())
    high = log_text(2 * CHUNK)
    plant(high, DER_ADDRESS - HIGH, ec_key.der(serialization.PrivateFormat.TraditionalOpenSSL))
    ranges = ((LOW, bytes(low)), (HIGH, bytes(high)), (TAIL, bytes(log_text(0x3000))))
    return Planted(rsa_key, ec_key, ed25519_key, ranges)


@pytest.fixture(scope="module")
def image(planted: Planted, tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_snappy()
    path = tmp_path_factory.mktemp("avml") / "memory.avml"
    path.write_bytes(writers.avml(planted.ranges))
    return path


def require_snappy() -> None:
    if not volatility().has_snappy:
        pytest.skip("libsnappy.so.1 (Debian libsnappy1v5) is not installed: AVML is unreadable")


def digest(data: bytes) -> str:
    """Compared instead of bytes that hold key material (no key bytes in a failure message)."""
    return hashlib.sha256(data).hexdigest()


def avml_layer(path: Path) -> Any:
    """volatility3's own AVMLLayer over the file, as `vol` stacks it."""
    vol = volatility()
    context = vol.contexts.Context()
    base = add_file_layer(vol, context, path)
    layer = vol.avml.AVMLStacker.stack(context, base.name, None)
    assert layer is not None
    return layer


@dataclass(frozen=True)
class LimeRange:
    start: int
    end: int
    reserved: int
    data_offset: int


def lime_ranges(data: bytes) -> list[LimeRange]:
    """The member parsed by hand from LiME's spec: {u32 magic 0x4C694D45, u32 version 1,
    u64 start, u64 end (inclusive), u64 reserved} then end - start + 1 bytes, to the end."""
    ranges, offset = [], 0
    while offset < len(data):
        magic, version, start, end, reserved = struct.unpack_from("<IIQQQ", data, offset)
        assert (magic, version) == (0x4C694D45, 1)
        ranges.append(LimeRange(start, end, reserved, offset + 32))
        offset += 32 + end - start + 1
    assert offset == len(data)
    return ranges


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Spool]:
    with Spool(1 << 30, tmp_path) as member_spool:
        yield member_spool


def unpack(path: Path, spool: Spool) -> Blob:
    blob = Blob(str(path), path, path.stat().st_size)
    (member,) = list(Avml().unpack(blob, spool))
    assert isinstance(member, Blob)
    return member


def test_keys_in_compressed_chunks_are_found_at_their_physical_addresses(
    image: Path, planted: Planted
) -> None:
    layer = avml_layer(image)
    compressed = {
        address: layer._compressed[row[1]]
        for address in (RSA_ADDRESS, DER_ADDRESS, DER_ADDRESS + 0x40, ED25519_ADDRESS)
        for row in layer._segments
        if row[0] <= address < row[0] + row[2]
    }
    # snappy-compressed in the file, but for the key among random bytes (stored)
    assert compressed == {RSA_ADDRESS: True, DER_ADDRESS: True, DER_ADDRESS + 0x40: True,
                          ED25519_ADDRESS: False}  # fmt: skip

    code, report = scan_json(image)

    assert code == 1
    output = json.dumps(report)
    for key in (planted.rsa_key, planted.ec_key, planted.ed25519_key):
        assert not [secret for secret in key.secret_strings() if secret in output]
    found = {(f["fingerprint"], f["address"], f["detector"]) for f in report["findings"]}
    assert found == planted.expected
    assert {f["kind"] for f in report["findings"]} == {"private-key"}
    ((entry),) = report["inputs"]
    assert entry["path"] == f"{image}!lime"
    assert (entry["format"], entry["status"], entry["containers"]) == (
        "memory-image",
        "ok",
        ["avml"],
    )


def test_lime_member_is_volatility3s_avml_layer_byte_for_byte(
    image: Path, planted: Planted, spool: Spool
) -> None:
    """Each LiME range holds what volatility3's AVML layer reads at its physical
    addresses; blocks that continue each other (HIGH, TAIL) are one range."""
    member = unpack(image, spool)
    data = member.file.read_bytes()
    layer = avml_layer(image)

    ranges = lime_ranges(data)
    assert member.display_path == f"{image}!lime"
    assert [(r.start, r.end, r.reserved) for r in ranges] == [
        (LOW, LOW + 2 * CHUNK - 1, 0),
        (HIGH, TAIL + 0x3000 - 1, 0),
    ]
    for lime_range in ranges:
        size = lime_range.end - lime_range.start + 1
        held = data[lime_range.data_offset : lime_range.data_offset + size]
        assert digest(held) == digest(layer.read(lime_range.start, size))
    planted_low, planted_high = planted.ranges[0][1], planted.ranges[1][1] + planted.ranges[2][1]
    assert [digest(planted_low), digest(planted_high)] == [
        digest(data[r.data_offset : r.data_offset + r.end - r.start + 1]) for r in ranges
    ]
    dump = MemoryImageReader().read(member.file, member.size)
    assert dump.layers == ("FileLayer", "LimeLayer")
    assert [(r.address, r.size) for r in dump.regions] == [
        (LOW, 2 * CHUNK),
        (HIGH, 2 * CHUNK + 0x3000),
    ]
    assert dump.defects == ()


def test_inspect_shows_the_container_chain_and_the_lime_layer(image: Path, tmp_path: Path) -> None:
    zipped = tmp_path / "memory.avml.gz"
    zipped.write_bytes(gzip.compress(image.read_bytes()))

    table = dumpguard("inspect", image)
    as_json = dumpguard("inspect", image, zipped, "--format", "json")

    assert table.code == 0, table.stderr
    assert f"{image}!lime: memory-image" in table.stdout
    assert "volatility3 layers: FileLayer -> LimeLayer" in table.stdout
    plain, nested = json.loads(as_json.stdout)["inputs"]
    assert (plain["path"], plain["containers"]) == (f"{image}!lime", ["avml"])
    assert (nested["path"], nested["containers"]) == (f"{zipped}!lime", ["gzip", "avml"])
    for record in (plain, nested):
        assert record["layers"] == "FileLayer -> LimeLayer"
        assert [(r["address"], r["size"]) for r in record["regions"]] == [
            (LOW, 2 * CHUNK),
            (HIGH, 2 * CHUNK + 0x3000),
        ]
        assert record["error"] is None


def test_the_expansion_limit_stops_an_avml_bomb_before_decoding(
    tmp_path: Path, spool: Spool
) -> None:
    """2 MiB of log text compresses ~20:1; with a 1 MiB limit the block headers alone
    refuse it: nothing is decoded or spooled."""
    require_snappy()
    path = tmp_path / "bomb.avml"
    path.write_bytes(writers.avml([(LOW, bytes(log_text(2 << 20)))]))
    assert path.stat().st_size < 256 * 1024
    small = Spool(1 << 20, tmp_path)

    with pytest.raises(ExpansionLimitError, match=r"!lime: expands past the limit of 1048576"):
        unpack(path, small)
    assert small.expanded == 0
    small.close()
    code, report = scan_json(path, "--max-expansion", "1MiB")

    assert code == 2
    ((entry),) = report["inputs"]
    assert (entry["status"], entry["format"]) == ("error", "avml")
    assert entry["error"] == (
        f"{path}!lime: expands past the limit of 1048576 bytes "
        "(decompression bomb guard; raise --max-expansion to scan it)"
    )


def first_chunk_offset() -> int:
    """The first block's first data chunk: 32-byte block header, 10-byte stream identifier."""
    return 32 + 10


def damaged(kind: str, good: bytes) -> bytes:
    data = bytearray(good)
    preamble = first_chunk_offset() + 8  # after {type, u24 length} and the masked CRC
    if kind == "cut":
        return bytes(data[:0x1000])
    if kind == "stored-block":
        return writers.avml([(0x1000, random.Random(5).randbytes(0x3000))])
    if kind == "chunk-too-large":
        data[preamble : preamble + 3] = bytes([0x80, 0x80, 0x08])  # varint 0x20000
    elif kind == "corrupt-snappy":
        data[preamble + 3 : preamble + 19] = b"\xff" * 16  # copies far before the start
    elif kind == "descending":
        return writers.avml([(0x200000, bytes(log_text(0x2000))), (LOW, bytes(log_text(0x2000)))])
    elif kind == "foreign-tail":
        data += b"not an AVML block header, but more than 32 bytes of it"
    return bytes(data)


DAMAGE = {
    "cut": "AVML block at 0x0 (physical 0x100000-0x11ffff) does not decode within the 0xf",
    "stored-block": "AVML block at 0x0 (physical 0x1000-0x3fff) does not decode within the "
    "0x2fff stream bytes volatility3's AVML layer reads for it",
    "chunk-too-large": "AVML block at 0x0 (physical 0x100000-0x11ffff): snappy chunk at 0x2a "
    "claims to decode to 0x20000 bytes; the framing format allows 0x10000",
    "corrupt-snappy": "volatility3 cannot read this AVML image: Error in snappy_uncompress",
    "descending": "AVML block at 0x",
    "foreign-tail": "volatility3 cannot read this AVML image: File not completely in AVML",
}


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_cut_and_corrupt_images_are_one_line_errors_and_other_inputs_still_scan(
    image: Path, planted: Planted, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / f"{kind}.avml"
    path.write_bytes(damaged(kind, image.read_bytes()))

    code, report = scan_json(path, image, timeout=60)

    assert code == 1  # the good image's keys
    bad, good = report["inputs"]
    assert (bad["path"], bad["status"], bad["format"]) == (str(path), "error", "avml")
    assert bad["error"].startswith(f"{path}: {DAMAGE[kind]}")
    assert "\n" not in bad["error"]
    if kind == "descending":
        assert "starts at or below the end of the block before it" in bad["error"]
    assert good["status"] == "ok"
    found = {(f["fingerprint"], f["address"], f["detector"]) for f in report["findings"]}
    assert found == planted.expected


def test_what_volatility3_would_hold_in_memory_is_bounded_first(
    tmp_path: Path, spool: Spool
) -> None:
    """volatility3's layer reads a block's stream window whole and keeps a table row per
    frame: a header claiming 1 TiB over a 65 MiB (sparse) file, and a block of 10,000
    empty padding frames in 40 KB, are refused before it loads them."""
    require_snappy()
    header = struct.pack("<IIQQQ", 0x4C4D5641, 2, 0, (1 << 40) - 1, 0)
    wide = tmp_path / "wide.avml"
    with wide.open("wb") as out:
        out.write(header)
        out.truncate(65 * 1024 * 1024 + 33)  # the window: 65 MiB after the header
    padded = tmp_path / "padded.avml"
    padding = b"\xfe\0\0\0" * 10_000  # framing_format.txt 4.4: padding, no payload
    padded.write_bytes(struct.pack("<IIQQQ", 0x4C4D5641, 2, 0, CHUNK - 1, 0) + padding)

    with pytest.raises(SourceError, match=r"reads a block's 0x4100000 stream bytes at once"):
        unpack(wide, spool)
    with pytest.raises(SourceError, match=r"more than 1043 snappy frames in this image's"):
        unpack(padded, spool)


@settings(
    max_examples=120, deadline=10000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mutated_and_cut_images_decode_or_give_a_source_error(
    tmp_path: Path, data: st.DataObject
) -> None:
    """Random damage to headers, frame headers and chunk bytes: a LiME member the memory
    reader reads, or one SourceError line naming the image; never another error, never
    a hang."""
    require_snappy()
    noise = random.Random(3).randbytes(CHUNK)
    good = writers.avml([(0x1000, noise + bytes(log_text(CHUNK))), (0x90000, b"k" * 0x800)])
    blob = bytearray(good)
    hot = [*range(0x60), *range(CHUNK, CHUNK + 0x80), *range(len(blob) - 0x90, len(blob))]
    for _ in range(data.draw(st.integers(0, 6))):
        blob[data.draw(st.sampled_from(hot))] = data.draw(st.integers(0, 255))
    path = tmp_path / "mutated.avml"
    path.write_bytes(bytes(blob[: data.draw(st.integers(0, len(blob)))]))
    if not Avml().probe(bytes(blob[:8])):
        return
    with Spool(1 << 26, tmp_path) as spool:
        member = unpack_or_error(path, spool)
        if isinstance(member, str):
            assert member.startswith(f"{path}: ")
            assert "\n" not in member
        else:
            read_member(member)


def unpack_or_error(path: Path, spool: Spool) -> Blob | str:
    try:
        return unpack(path, spool)
    except SourceError as error:
        return str(error)


def read_member(member: Blob) -> None:
    try:
        dump = MemoryImageReader().read(member.file, member.size)
    except FormatError as error:
        message = str(error)
    else:
        assert all(0 <= r.file_offset < r.file_end <= member.size for r in dump.regions)
        return
    assert "\n" not in message


def test_without_libsnappy_the_image_is_an_error_naming_the_library(
    image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spool: Spool
) -> None:
    """volatility3 sets avml.HAS_SNAPPY when it loads libsnappy.so.1; cleared, its own
    AVML stacker declines every image, and dumpguard says what is missing."""
    monkeypatch.setattr(volatility().avml, "HAS_SNAPPY", False)
    vol = volatility()
    context = vol.contexts.Context()
    base = add_file_layer(vol, context, image)
    assert vol.avml.AVMLStacker.stack(context, base.name, None) is None

    with pytest.raises(SourceError) as raised:
        unpack(image, spool)
    assert str(raised.value).startswith(f"{image}: AVML image not decoded")
    assert "libsnappy.so.1" in str(raised.value)


# The CLI as a user without libsnappy runs it: volatility3's flag cleared at start-up.
WITHOUT_SNAPPY = """
import runpy
import volatility3.framework.layers.avml as avml
avml.HAS_SNAPPY = False
runpy.run_module("scanner", run_name="__main__")
"""


def test_cli_without_libsnappy_fails_closed_and_names_the_library(
    image: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-c", WITHOUT_SNAPPY, "scan", str(image), "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )

    assert run.returncode == 2, run.stderr
    ((entry),) = json.loads(run.stdout)["inputs"]
    assert (entry["status"], entry["format"]) == ("error", "avml")
    assert entry["error"].startswith(f"{image}: AVML image not decoded")
    assert "libsnappy.so.1" in entry["error"]


def test_only_avml_headers_open_the_avml_source(image: Path) -> None:
    head = image.read_bytes()[:4096]
    lime = writers.lime([(LOW, b"k" * 0x100)])

    assert isinstance(container_for(head), Avml)
    assert container_for(lime) is None
    assert container_for(head[:4] + b"\x01\0\0\0" + head[8:]) is None  # version 1
