"""Memory images through volatility3: spec-exact images from tests/formats/memimage_writers.py
(no real LiME, crash dump, vmcore or Xen core can be made here), the corpus LiME slice and
the cut Windows kernel dump, all cross-checked against volatility3's own layer stacking."""

from __future__ import annotations

import json
import os
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


def test_avml_is_left_to_the_avml_source(planted: Planted) -> None:
    """AVML images are a container (scanner/sources/avml.py decodes them to LiME, see
    tests/sources/test_avml.py); this reader neither claims one nor stacks volatility3's
    AVML layer, whose walk of a hostile file never ends."""
    head = writers.avml(planted.ranges)[:4096]

    assert image_kind(head) is None
    assert not isinstance(reader_for(head), MemoryImageReader)
    assert "AVMLStacker" not in {stacker.__name__ for stacker in volatility().stackers}


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
