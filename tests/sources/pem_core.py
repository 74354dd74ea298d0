"""A real gcore dump of a Python process holding a PEM private key, for container tests.

The holder is samples/holders/hold_pem.py: it generates an RSA-2048 key with
`cryptography`, keeps its PKCS#8 PEM text in memory, writes the PEM to a file
(read here for the fingerprint, then deleted) and prints READY.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_private_key

from scanner.keys.fingerprint import fingerprint_public_key
from tests.processes import gcore, read_ready_line, require_gcore, stop

HOLDER = Path(__file__).resolve().parents[2] / "samples" / "holders" / "hold_pem.py"
READY_TIMEOUT = 60


@dataclass(frozen=True)
class PemCore:
    """An ELF core file and the fingerprint of the key the dumped process held."""

    core: Path
    fingerprint: str
    pid: int


def dump_pem_holder(work: Path) -> PemCore:
    """gcore a running hold_pem.py into `work`; skips when gcore cannot dump."""
    require_gcore()
    key_file = work / "held-key.pem"
    process = subprocess.Popen(
        [sys.executable, str(HOLDER), str(key_file)],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        line = read_ready_line(process, READY_TIMEOUT)
        assert line.startswith(b"READY"), line[:40]
        core = gcore(process.pid, work / "core")
    finally:
        stop(process)
    key = load_pem_private_key(key_file.read_bytes(), password=None)
    key_file.unlink()
    return PemCore(core, fingerprint_public_key(key.public_key()), process.pid)
