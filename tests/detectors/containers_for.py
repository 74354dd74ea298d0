"""Plant bytes in each kind of input dumpguard reads, scan it with the real CLI, read the JSON.

The ELF core and the minidump come from the spec-exact test writers of
tests/formats (gABI ELF core, minidumpapiset.h minidump); the gzip member is
written by Python's gzip module.  Each holder puts the planted bytes at an odd
offset inside an anonymous read-write region, after random bytes.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.clirun import dumpguard
from tests.formats.test_elfcore import EM_X86_64, PF_R, PF_W, Segment, build_elf_core
from tests.formats.test_minidump import build_minidump

HEAP_ADDRESS = 0x7F00_0000_0000
LEAD_BYTES = 4099  # random bytes before the planted ones: an odd offset


@dataclass(frozen=True)
class Planted:
    """A file holding the planted bytes; `offset` is where they start in the scanned bytes."""

    path: Path
    offset: int
    address: int | None


def region_bytes(planted: bytes, seed: int) -> bytes:
    noise = random.Random(seed)
    return noise.randbytes(LEAD_BYTES) + planted + noise.randbytes(2001)


def plant_raw(directory: Path, planted: bytes) -> Planted:
    path = directory / "planted.bin"
    path.write_bytes(region_bytes(planted, 1))
    return Planted(path, LEAD_BYTES, None)


def plant_elf_core(directory: Path, planted: bytes) -> Planted:
    segments = [Segment(vaddr=HEAP_ADDRESS, flags=PF_R | PF_W, data=region_bytes(planted, 2))]
    layout = build_elf_core(64, "<", EM_X86_64, segments, notes=b"")
    path = directory / "planted.core"
    path.write_bytes(layout.data)
    return Planted(path, layout.load_offsets[0] + LEAD_BYTES, HEAP_ADDRESS + LEAD_BYTES)


def plant_minidump(directory: Path, planted: bytes) -> Planted:
    sample = build_minidump(memory64=[(HEAP_ADDRESS, region_bytes(planted, 3))])
    path = directory / "planted.dmp"
    path.write_bytes(sample.data)
    return Planted(path, sample.memory64_rvas[0] + LEAD_BYTES, HEAP_ADDRESS + LEAD_BYTES)


def plant_gzip(directory: Path, planted: bytes) -> Planted:
    path = directory / "planted.bin.gz"
    path.write_bytes(gzip.compress(region_bytes(planted, 4)))
    return Planted(path, LEAD_BYTES, None)


HOLDERS: dict[str, Callable[[Path, bytes], Planted]] = {
    "raw": plant_raw,
    "elf-core": plant_elf_core,
    "minidump": plant_minidump,
    "gzip": plant_gzip,
}


def scan_findings(*paths: Path) -> list[dict[str, Any]]:
    """The findings of `dumpguard scan --format json` (exit code 0 or 1: scanned whole)."""
    run = dumpguard("scan", *paths, "--format", "json", "--fail-on", "never")
    assert run.code == 0, run.stderr[-2000:]
    findings: list[dict[str, Any]] = json.loads(run.stdout)["findings"]
    return findings
