"""Fixtures for the formats tests: the third-party corpus and a gcore dump of a live process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import gcore, read_ready_line, require_gcore, stop

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = REPO_ROOT.parent / "shared" / "corpus"

# The child allocates a random marker in a bytearray (pymalloc heap, anonymous
# memory), prints its pid, the marker and the marker's address, then sleeps
# until killed.
MARKER_PROCESS = """
import ctypes, os, sys, time
marker = bytearray(b"DUMPGUARD-MARKER-" + os.urandom(16).hex().encode())
address = ctypes.addressof((ctypes.c_char * len(marker)).from_buffer(marker))
print(os.getpid(), marker.decode(), address, flush=True)
time.sleep(300)
"""


@dataclass(frozen=True)
class Mapping:
    """One line of /proc/<pid>/maps."""

    start: int
    end: int
    path: str | None


@dataclass(frozen=True)
class GcoreDump:
    """A gcore dump of a live process and what the process said about itself."""

    core: Path
    pid: int
    comm: str
    marker: bytes
    marker_address: int
    mappings: tuple[Mapping, ...]


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The third-party dump corpus (../shared/corpus next to the checkout), or skip."""
    if not (CORPUS / "MANIFEST.md").is_file():
        pytest.skip(f"third-party corpus not present at {CORPUS}")
    return CORPUS


def parse_maps(text: str) -> tuple[Mapping, ...]:
    mappings = []
    for line in text.splitlines():
        fields = line.split(maxsplit=5)
        start, end = (int(bound, 16) for bound in fields[0].split("-"))
        path = fields[5] if len(fields) == 6 and fields[5].startswith("/") else None
        mappings.append(Mapping(start=start, end=end, path=path))
    return tuple(mappings)


@pytest.fixture(scope="session")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory for hypothesis examples (function-scoped tmp_path cannot serve @given)."""
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="session")
def gcore_dump(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GcoreDump]:
    """A real core of a sleeping Python process, written by gdb's gcore."""
    require_gcore()
    process = subprocess.Popen(
        [sys.executable, "-c", MARKER_PROCESS], stdout=subprocess.PIPE, text=True
    )
    try:
        pid_text, marker, address_text = read_ready_line(process, 30).split()
        comm = Path(f"/proc/{process.pid}/comm").read_text().strip()
        mappings = parse_maps(Path(f"/proc/{process.pid}/maps").read_text())
        core = gcore(process.pid, tmp_path_factory.mktemp("gcore") / "core")
        yield GcoreDump(
            core=core,
            pid=int(pid_text),
            comm=comm,
            marker=marker.encode(),
            marker_address=int(address_text),
            mappings=mappings,
        )
    finally:
        stop(process)
