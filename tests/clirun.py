"""Run the real dumpguard CLI in a subprocess, as users and pipelines do."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str


def dumpguard(
    *args: str | Path, stdin: bytes | None = None, timeout: float = 300, cwd: Path | None = None
) -> Run:
    completed = subprocess.run(
        [sys.executable, "-m", "scanner", *map(str, args)],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
    )
    return Run(
        completed.returncode,
        completed.stdout.decode("utf-8", "replace"),
        completed.stderr.decode("utf-8", "replace"),
    )
