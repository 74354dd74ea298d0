"""A real gcore dump of a Python process holding a PEM private key, for container tests.

The holder is samples/holders/hold_pem.py: it generates an RSA-2048 key with
`cryptography`, keeps its PKCS#8 PEM text in memory, writes the PEM to a file
(read here for the fingerprint, then deleted) and prints READY.
"""

from __future__ import annotations

import selectors
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from scanner.keys.fingerprint import fingerprint_public_key

HOLDER = Path(__file__).resolve().parents[2] / "samples" / "holders" / "hold_pem.py"
READY_TIMEOUT = 60
GCORE_TIMEOUT = 120


@dataclass(frozen=True)
class PemCore:
    """An ELF core file and the fingerprint of the key the dumped process held."""

    core: Path
    fingerprint: str
    pid: int


def wait_ready(process: subprocess.Popen[bytes]) -> None:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(READY_TIMEOUT):
            raise TimeoutError("hold_pem.py did not print READY in time")
    line = process.stdout.readline()
    assert line.startswith(b"READY"), line[:40]


def dump_pem_holder(work: Path) -> PemCore:
    """gcore a running hold_pem.py into `work`; skips when gcore cannot dump."""
    if shutil.which("gcore") is None:
        pytest.skip("gdb's gcore is not installed")
    key_file = work / "held-key.pem"
    process = subprocess.Popen(
        [sys.executable, str(HOLDER), str(key_file)],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        wait_ready(process)
        prefix = work / "core"
        result = subprocess.run(
            ["gcore", "-o", str(prefix), str(process.pid)],
            capture_output=True,
            timeout=GCORE_TIMEOUT,
            check=False,
        )
        core = Path(f"{prefix}.{process.pid}")
        if result.returncode != 0 or not core.is_file():
            pytest.skip("gcore could not dump the holder (ptrace not allowed?)")
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
    key = load_pem_private_key(key_file.read_bytes(), password=None)
    key_file.unlink()
    return PemCore(core, fingerprint_public_key(key.public_key()), process.pid)
