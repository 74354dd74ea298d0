"""Memory images through volatility3: spec-exact images from tests/formats/memimage_writers.py
(no real LiME, crash dump, vmcore or Xen core can be made here), the corpus LiME slice and
the cut Windows kernel dump, all cross-checked against volatility3's own layer stacking."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.errors import FormatError
from scanner.formats import reader_for
from scanner.formats.base import Dump
from scanner.formats.memimage import MemoryImageReader, image_kind, volatility
from tests.clirun import dumpguard
from tests.formats import memimage_writers as writers
from tests.keyfactory import SampleKey

READER = MemoryImageReader()
LOW_RANGE, HIGH_RANGE = 0x1000, 0x100000
PEM_ADDRESS, DER_ADDRESS = LOW_RANGE + 0x200, HIGH_RANGE + 0x1800
CORPUS_LIME = "lime/Marcondiro_memflow-LiME__deb-x86_64-slice.lime"
CORPUS_CRASH = "kernel_crashdump/WerWolv_ImHex-Patterns__dmp64.hexpat.bin"


@dataclass(frozen=True)
class Planted:
    pem_key: SampleKey
    der_key: SampleKey
    ranges: tuple[tuple[int, bytes], ...] = field(repr=False)  # holds the planted keys


@pytest.fixture(scope="module")
def planted() -> Planted:
    """A PKCS#8 PEM RSA key in the low range and a SEC1 DER P-256 key in the high one."""
    pem_key = SampleKey("rsa2048", rsa.generate_private_key(65537, 2048))
    der_key = SampleKey("p256", ec.generate_private_key(ec.SECP256R1()))
    low = bytearray(0x3000)
    high = bytearray(0x4000)
    pem = pem_key.pem()
    der = der_key.der(serialization.PrivateFormat.TraditionalOpenSSL)
    low[PEM_ADDRESS - LOW_RANGE : PEM_ADDRESS - LOW_RANGE + len(pem)] = pem
    high[DER_ADDRESS - HIGH_RANGE : DER_ADDRESS - HIGH_RANGE + len(der)] = der
    return Planted(pem_key, der_key, ((LOW_RANGE, bytes(low)), (HIGH_RANGE, bytes(high))))


IMAGES: dict[str, tuple[Callable[[Any], bytes], str]] = {
    "lime": (writers.lime, "LimeLayer"),
    "windows-full": (writers.windows_full_crash, "WindowsCrashDump64Layer"),
    "windows-bitmap": (
        lambda ranges: writers.windows_bitmap_crash(ranges, 0x180),
        "WindowsCrashDump64Layer",
    ),
    "qemu-vmcore": (writers.qemu_vmcore, "Elf64Layer"),
    "xen": (writers.xen_core, "XenCoreDumpLayer"),
}


def write_image(directory: Path, name: str, planted: Planted) -> Path:
    path = directory / f"{name}.img"
    path.write_bytes(IMAGES[name][0](planted.ranges))
    return path


def read(path: Path) -> Dump:
    return READER.read(path, path.stat().st_size)


def volatility_stack(path: Path) -> Any:
    """volatility3's own LayerStacker over the file, with its physical-format stackers."""
    from volatility3.framework.automagic.stacker import LayerStacker

    vol = volatility()  # offline settings first
    context = vol.contexts.Context()
    context.config["vol.FileLayer.location"] = path.resolve().as_uri()
    context.add_layer(vol.physical.FileLayer(context, "vol.FileLayer", "FileLayer"))
    names = LayerStacker.stack_layer(context, "FileLayer", list(vol.stackers))
    assert len(names) == 2, names
    return context.layers[names[0]]


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_image_regions_are_volatility3_mapping_with_physical_addresses(
    tmp_path: Path, planted: Planted, name: str
) -> None:
    path = write_image(tmp_path, name, planted)
    data = path.read_bytes()

    assert isinstance(reader_for(data[:4096]), MemoryImageReader)
    dump = read(path)

    assert dump.layers == ("FileLayer", IMAGES[name][1])
    assert dump.defects == ()
    layer = volatility_stack(path)
    mapping = [
        (offset, length, mapped)
        for offset, length, mapped, _, _ in layer.mapping(
            layer.minimum_address, layer.maximum_address - layer.minimum_address + 1, True
        )
    ]
    assert [(r.address, r.size, r.file_offset) for r in dump.regions] == merged(mapping)
    for region in dump.regions:
        assert region.address is not None
        assert layer.read(region.address, region.size) == data[region.file_offset : region.file_end]
    for start, planted_bytes in planted.ranges:
        assert layer.read(start, len(planted_bytes)) == planted_bytes


def merged(mapping: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """volatility3's mapping runs, joined where they continue in memory and in the file
    (the Xen layer maps page by page)."""
    runs: list[tuple[int, int, int]] = []
    for address, length, file_offset in mapping:
        if runs and runs[-1][0] + runs[-1][1] == address and sum(runs[-1][1:]) == file_offset:
            runs[-1] = (runs[-1][0], runs[-1][1] + length, runs[-1][2])
        else:
            runs.append((address, length, file_offset))
    return runs


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_cli_finds_planted_keys_at_their_physical_addresses(
    tmp_path: Path, planted: Planted, name: str
) -> None:
    path = write_image(tmp_path, name, planted)

    run = dumpguard("scan", path, "--format", "json")

    assert run.code == 1, run.stderr
    report = json.loads(run.stdout)
    ((entry),) = report["inputs"]
    assert (entry["format"], entry["status"]) == ("memory-image", "ok")
    found = {(f["fingerprint"], f["address"], f["kind"]) for f in report["findings"]}
    assert found == {
        (planted.pem_key.fingerprint, PEM_ADDRESS, "private-key"),
        (planted.der_key.fingerprint, DER_ADDRESS, "private-key"),
    }


def test_inspect_shows_the_layer_stack(tmp_path: Path, planted: Planted) -> None:
    path = write_image(tmp_path, "lime", planted)

    table = dumpguard("inspect", path)
    as_json = dumpguard("inspect", path, "--format", "json")

    assert table.code == 0, table.stderr
    assert "volatility3 layers: FileLayer -> LimeLayer" in table.stdout
    ((record),) = json.loads(as_json.stdout)["inputs"]
    assert record["layers"] == "FileLayer -> LimeLayer"
    assert [(r["address"], r["size"]) for r in record["regions"]] == [
        (start, len(data)) for start, data in planted.ranges
    ]


def test_avml_needs_the_snappy_library_and_says_so(tmp_path: Path, planted: Planted) -> None:
    """volatility3's AVML layer decompresses through libsnappy.so.1 (ctypes); where it is
    not installed, an AVML image is an error naming the missing library."""
    if volatility().has_snappy:
        pytest.skip("libsnappy is installed: AVML is readable here")
    path = tmp_path / "memory.avml"
    path.write_bytes(writers.avml(planted.ranges))

    run = dumpguard("scan", path, "--format", "json")

    assert run.code == 2
    ((entry),) = json.loads(run.stdout)["inputs"]
    assert entry["status"] == "error"
    assert entry["error"].startswith(f"{path}: AVML image not scanned")
    assert "libsnappy.so.1" in entry["error"]


# AVML: snappy-framed blocks (memimage_writers.avml).  dumpguard streams region bytes from
# the file, so it scans the chunks avml stores uncompressed (64 KiB that snappy cannot
# shrink by 1/8, such as random bytes) and reports the compressed ones as not scanned.
AVML_LOW, AVML_HIGH = 0x100000, 0x4000000
AVML_PEM_ADDRESS = AVML_LOW + 0x1235  # in the low range's first chunk, stored
AVML_DER_ADDRESS = AVML_HIGH + 0x12001  # in the high range's second chunk, stored
SNAPPY_CHUNK = writers.SNAPPY_CHUNK


def require_snappy() -> None:
    if not volatility().has_snappy:
        pytest.skip("libsnappy.so.1 (Debian libsnappy1v5) is not installed: AVML is unreadable")


def digest(data: bytes) -> str:
    """Compared instead of bytes that hold key material (no key bytes in a failure message)."""
    return hashlib.sha256(data).hexdigest()


def avml_ranges(planted: Planted) -> tuple[tuple[int, bytes], ...]:
    """The PEM key in the low range's first 64 KiB chunk and the DER key in the high range's
    second, each among random bytes (stored chunks); zero chunks around them (compressed)."""
    noise = random.Random(11)
    low, high = bytearray(2 * SNAPPY_CHUNK), bytearray(3 * SNAPPY_CHUNK)
    low[:SNAPPY_CHUNK] = noise.randbytes(SNAPPY_CHUNK)
    high[SNAPPY_CHUNK : 2 * SNAPPY_CHUNK] = noise.randbytes(SNAPPY_CHUNK)
    pem = planted.pem_key.pem()
    der = planted.der_key.der(serialization.PrivateFormat.TraditionalOpenSSL)
    low[AVML_PEM_ADDRESS - AVML_LOW : AVML_PEM_ADDRESS - AVML_LOW + len(pem)] = pem
    high[AVML_DER_ADDRESS - AVML_HIGH : AVML_DER_ADDRESS - AVML_HIGH + len(der)] = der
    return (AVML_LOW, bytes(low)), (AVML_HIGH, bytes(high))


def write_avml(directory: Path, ranges: writers.Ranges) -> Path:
    path = directory / "memory.avml"
    path.write_bytes(writers.avml(ranges))
    return path


def test_avml_image_is_read_through_volatility3s_avml_layer(
    tmp_path: Path, planted: Planted
) -> None:
    """volatility3 decodes every chunk of the writer's stream (the compressed ones with
    libsnappy) back to the planted ranges; the stored chunks are the regions, with their
    physical addresses, and each compressed one is a defect."""
    require_snappy()
    ranges = avml_ranges(planted)
    path = write_avml(tmp_path, ranges)
    data = path.read_bytes()

    dump = read(path)
    layer = volatility_stack(path)

    assert dump.layers == ("FileLayer", "AVMLLayer")
    for start, range_bytes in ranges:
        assert digest(layer.read(start, len(range_bytes))) == digest(range_bytes)
    assert sorted(layer._compressed.values()) == [False, False, True, True, True]
    assert [(r.address, r.size) for r in dump.regions] == [
        (AVML_LOW, SNAPPY_CHUNK),
        (AVML_HIGH + SNAPPY_CHUNK, SNAPPY_CHUNK),
    ]
    for region in dump.regions:
        assert region.address is not None
        from_layer = layer.read(region.address, region.size)
        assert digest(from_layer) == digest(data[region.file_offset : region.file_end])
    assert [defect.split(":")[0] for defect in dump.defects] == [
        f"segment 1 (physical 0x{AVML_LOW + SNAPPY_CHUNK:x})",
        f"segment 2 (physical 0x{AVML_HIGH:x})",
        f"segment 4 (physical 0x{AVML_HIGH + 2 * SNAPPY_CHUNK:x})",
    ]
    assert all(defect.endswith("stored encoded in 0xc05 file bytes; not scanned")
               for defect in dump.defects)  # fmt: skip


def test_cli_finds_keys_in_an_avml_image_at_their_physical_addresses(
    tmp_path: Path, planted: Planted
) -> None:
    require_snappy()
    path = write_avml(tmp_path, avml_ranges(planted))

    run = dumpguard("scan", path, "--format", "json")

    assert run.code == 1, run.stderr
    report = json.loads(run.stdout)
    found = {(f["fingerprint"], f["address"], f["kind"], f["detector"]) for f in report["findings"]}
    assert found == {
        (planted.pem_key.fingerprint, AVML_PEM_ADDRESS, "private-key", "pem"),
        (planted.der_key.fingerprint, AVML_DER_ADDRESS, "private-key", "der-sec1"),
    }
    ((entry),) = report["inputs"]
    assert (entry["format"], entry["status"]) == ("memory-image", "error")
    assert entry["error"].startswith(f"{path}: partly unreadable: segment 1 (physical 0x110000)")


def test_inspect_shows_the_avml_layer_stack_and_what_is_not_scanned(
    tmp_path: Path, planted: Planted
) -> None:
    require_snappy()
    path = write_avml(tmp_path, avml_ranges(planted))

    table = dumpguard("inspect", path)
    as_json = dumpguard("inspect", path, "--format", "json")

    assert table.code == 0, table.stderr
    assert "volatility3 layers: FileLayer -> AVMLLayer" in table.stdout
    ((record),) = json.loads(as_json.stdout)["inputs"]
    assert record["layers"] == "FileLayer -> AVMLLayer"
    assert [(r["address"], r["size"]) for r in record["regions"]] == [
        (AVML_LOW, SNAPPY_CHUNK),
        (AVML_HIGH + SNAPPY_CHUNK, SNAPPY_CHUNK),
    ]
    assert len(record["defects"]) == 3


def test_key_in_a_compressed_avml_chunk_is_not_found_and_the_input_fails_closed(
    tmp_path: Path, planted: Planted
) -> None:
    """A PEM key among zero pages compresses, so avml stores its chunk compressed: those
    bytes are not in the file as they are, dumpguard does not scan them, and the input is
    an error, so the gate does not pass the image (exit 2, not 0)."""
    require_snappy()
    pem_range = bytearray(SNAPPY_CHUNK)
    pem_range[0x101 : 0x101 + len(planted.pem_key.pem())] = planted.pem_key.pem()
    path = write_avml(tmp_path, [(AVML_LOW, bytes(pem_range))])

    run = dumpguard("scan", path, "--format", "json")

    assert run.code == 2, run.stderr
    report = json.loads(run.stdout)
    assert report["findings"] == []
    ((entry),) = report["inputs"]
    assert entry["status"] == "error"
    assert entry["error"].endswith("file bytes; not scanned")


@pytest.mark.parametrize("damage", ["stored-block", "cut"])
def test_avml_volatility3_would_walk_forever_is_refused(
    tmp_path: Path, planted: Planted, damage: str
) -> None:
    """volatility3's AVML layer reads a block's stream as (end - start) bytes and walks its
    frames until they decode end - start + 1: a block of stored chunks (incompressible
    memory) or a cut file never gets there and the walk never ends.  dumpguard walks the
    frame headers first and names the block instead of hanging."""
    require_snappy()
    if damage == "stored-block":
        image = writers.avml([(0x1000, random.Random(5).randbytes(0x3000))])
        address = "0x1000-0x3fff"
    else:
        image = writers.avml(avml_ranges(planted))[:0x1000]
        address = f"0x{AVML_LOW:x}-0x{AVML_LOW + 2 * SNAPPY_CHUNK - 1:x}"
    path = tmp_path / "memory.avml"
    path.write_bytes(image)

    run = dumpguard("scan", path, "--format", "json", timeout=60)

    assert run.code == 2
    ((entry),) = json.loads(run.stdout)["inputs"]
    assert entry["error"].startswith(f"{path}: AVML block at 0x0 (physical {address}) does not")
    assert "volatility3 cannot read this image" in entry["error"]


@settings(max_examples=120, deadline=10000)
@given(data=st.data())
def test_mutated_and_cut_avml_images_give_dump_or_format_error(
    fuzz_dir: Path, data: st.DataObject
) -> None:
    require_snappy()
    noise = random.Random(3).randbytes(SNAPPY_CHUNK)
    blob = bytearray(writers.avml([(0x1000, noise + bytes(SNAPPY_CHUNK)), (0x90000, b"k" * 0x800)]))
    for _ in range(data.draw(st.integers(0, 6))):
        position = data.draw(st.sampled_from([*range(0x40), *range(len(blob) - 0x880, len(blob))]))
        blob[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(blob)))
    path = fuzz_dir / "mutated.avml"
    path.write_bytes(bytes(blob[:cut]))
    read_or_format_error(path)


def test_filtered_vmcore_segment_volatility3_skips_fails_closed(
    tmp_path: Path, planted: Planted
) -> None:
    """makedumpfile writes p_filesz < p_memsz; volatility3's ELF layer maps only
    p_filesz == p_memsz, so that segment's bytes go unscanned and the input is an error."""
    path = tmp_path / "filtered.vmcore"
    path.write_bytes(writers.qemu_vmcore(planted.ranges, memsz_extra=0x1000))

    dump = read(path)

    assert [r.address for r in dump.regions] == [LOW_RANGE]
    (defect,) = dump.defects
    assert defect.startswith(f"segment 2 (PT_LOAD at physical 0x{HIGH_RANGE:x}): p_filesz")


def test_ranges_are_not_joined_across_physical_gaps(tmp_path: Path) -> None:
    """Two LiME ranges back to back in the file but not in memory stay two regions."""
    path = tmp_path / "gap.lime"
    path.write_bytes(writers.lime([(0x1000, b"a" * 0x1000), (0x3000, b"b" * 0x1000)]))
    path2 = tmp_path / "contiguous.dmp"
    path2.write_bytes(writers.windows_full_crash([(0x1000, b"a" * 0x1000), (0x2000, b"b" * 5)]))

    assert [(r.address, r.size) for r in read(path).regions] == [(0x1000, 0x1000), (0x3000, 0x1000)]
    assert [(r.address, r.size) for r in read(path2).regions] == [(0x1000, 0x2000)]


@pytest.mark.parametrize(
    ("dump_type", "message"),
    [(2, "type 2 (kernel summary) is not readable by volatility3"), (4, "type 4 (triage)")],
)
def test_unsupported_windows_dump_types_are_named(
    tmp_path: Path, planted: Planted, dump_type: int, message: str
) -> None:
    data = bytearray(writers.windows_full_crash(planted.ranges))
    data[0xF98:0xF9C] = dump_type.to_bytes(4, "little")
    path = tmp_path / "kernel.dmp"
    path.write_bytes(data)
    with pytest.raises(FormatError, match=re.escape(message)):
        read(path)


def test_crash_dump_counts_are_bounded_before_volatility3_loops(
    tmp_path: Path, planted: Planted
) -> None:
    runs = bytearray(writers.windows_full_crash(planted.ranges))
    runs[0x88:0x8C] = (0xFFFFFFFF).to_bytes(4, "little")
    bitmap = bytearray(writers.windows_bitmap_crash(planted.ranges, 0x180))
    bitmap[0x2030:0x2038] = (1 << 40).to_bytes(8, "little")
    (tmp_path / "runs.dmp").write_bytes(runs)
    (tmp_path / "bitmap.dmp").write_bytes(bitmap)

    with pytest.raises(FormatError, match="claims 4294967295 physical memory runs; its header"):
        read(tmp_path / "runs.dmp")
    with pytest.raises(FormatError, match=r"page bitmap \(1099511627776 bits\) runs past end"):
        read(tmp_path / "bitmap.dmp")


def test_vmware_vmem_is_read_as_raw_and_volatility3_maps_it(
    tmp_path: Path, planted: Planted
) -> None:
    """A .vmem has no header (volatility3 finds its .vmss by file name; readers are chosen
    by first bytes), so it is scanned raw: the key is found at its .vmem offset, which
    volatility3's VmwareLayer maps back to the physical address."""
    from volatility3.framework.layers import vmware

    low, high = planted.ranges
    vmem = tmp_path / "vm.vmem"
    vmem.write_bytes(low[1] + high[1])
    (tmp_path / "vm.vmss").write_bytes(
        writers.vmware_vmss([(low[0] // 0x1000, 0, 3), (high[0] // 0x1000, 3, 4)])
    )
    run = dumpguard("scan", vmem, "--format", "json")
    findings = {f["fingerprint"]: f for f in json.loads(run.stdout)["findings"]}
    der = findings[planted.der_key.fingerprint]

    layer = vmware_layer(vmem, vmware)
    assert der["address"] is None
    assert der["offset"] == len(low[1]) + DER_ADDRESS - HIGH_RANGE
    ((_, _, mapped, _, _),) = list(layer.mapping(DER_ADDRESS, 1))
    assert mapped == der["offset"]


def vmware_layer(vmem: Path, vmware: Any) -> Any:
    vol = volatility()
    context = vol.contexts.Context()
    context.config["vol.FileLayer.location"] = vmem.resolve().as_uri()
    context.add_layer(vol.physical.FileLayer(context, "vol.FileLayer", "FileLayer"))
    layer = vmware.VmwareStacker.stack(context, "FileLayer", None)
    assert layer is not None
    return layer


def test_process_cores_are_not_memory_images(corpus: Path) -> None:
    import bz2

    for path in sorted((corpus / "elfcore").iterdir()):
        data = path.read_bytes()
        head = bz2.decompress(data)[:4096] if path.suffix == ".bz2" else data[:4096]
        assert image_kind(head) is None, path.name


def test_corpus_lime_slice_is_one_physical_range(corpus: Path) -> None:
    dump = read(corpus / CORPUS_LIME)

    assert dump.layers == ("FileLayer", "LimeLayer")
    assert [(r.address, r.size, r.file_offset) for r in dump.regions] == [(0x1000, 0x9F000, 0x20)]
    assert dump.defects == ()


def test_corpus_cut_windows_dump_is_read_as_far_as_it_goes(corpus: Path) -> None:
    """16 KiB of a full dump whose five runs claim 2 GiB: the first run's first two pages
    are there; the rest is reported, one line per run."""
    dump = read(corpus / CORPUS_CRASH)

    assert dump.layers == ("FileLayer", "WindowsCrashDump64Layer")
    assert [(r.address, r.size, r.file_offset) for r in dump.regions] == [(0x2000, 0x2000, 0x2000)]
    assert len(dump.defects) == 5
    assert dump.defects[0].endswith("clipped to 0x2000 bytes")


def test_cli_on_corpus_images_finds_no_key_and_names_the_cut_dump(corpus: Path) -> None:
    run = dumpguard("scan", corpus / CORPUS_LIME, corpus / CORPUS_CRASH, "--format", "json")

    report = json.loads(run.stdout)
    assert run.code == 2
    assert [f for f in report["findings"] if f["kind"] not in ("certificate", "public-key")] == []
    status = {Path(i["path"]).name: (i["status"], i["error"]) for i in report["inputs"]}
    assert status[Path(CORPUS_LIME).name] == ("ok", None)
    crash_status, crash_error = status[Path(CORPUS_CRASH).name]
    assert crash_status == "error"
    assert "partly unreadable: segment 0 (physical 0x2000)" in crash_error
    assert "\n" not in crash_error


NETWORK_GUARD = """
import sys
def guard(event, args):
    remote = event == "urllib.Request" and not args[0].startswith("file:")
    if event.startswith("socket.") or remote:
        raise RuntimeError("network access: " + event)
sys.addaudithook(guard)
from pathlib import Path
from scanner.formats.memimage import MemoryImageReader
for name in sys.argv[1:]:
    dump = MemoryImageReader().read(Path(name), Path(name).stat().st_size)
    print(name, " -> ".join(dump.layers))
"""


def test_volatility3_stays_offline_and_writes_no_user_cache(
    tmp_path: Path, planted: Planted
) -> None:
    paths = [str(write_image(tmp_path, name, planted)) for name in sorted(IMAGES)]
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "XDG_CACHE_HOME"}
    env["HOME"] = str(home)

    result = subprocess.run(
        [sys.executable, "-c", NETWORK_GUARD, *paths],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == len(paths)
    assert result.stderr == ""  # volatility3's loggers are silent
    assert list(home.iterdir()) == []


def read_or_format_error(path: Path) -> None:
    size = path.stat().st_size
    head = path.read_bytes()[:4096]
    try:
        dump = reader_for(head).read(path, size)
    except FormatError as error:
        message = str(error)
    else:
        assert all(0 <= r.file_offset < r.file_end <= size for r in dump.regions)
        return
    assert message.startswith(f"{path}: ")
    assert "\n" not in message


@settings(max_examples=150, deadline=5000)
@given(data=st.data(), name=st.sampled_from(sorted(IMAGES)))
def test_mutated_and_cut_images_give_dump_or_format_error(
    fuzz_dir: Path, data: st.DataObject, name: str
) -> None:
    ranges = ((0x1000, b"k" * 0x1800), (0x5000, b"m" * 0x1000))
    blob = bytearray(IMAGES[name][0](ranges))
    for _ in range(data.draw(st.integers(0, 6))):
        position = data.draw(st.integers(0, min(len(blob), 0x2100) - 1))
        blob[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(blob)))
    path = fuzz_dir / f"mutated-{name}"
    path.write_bytes(bytes(blob[:cut]))
    read_or_format_error(path)
