"""Run the real dumpguard CLI in a subprocess, as users and pipelines do."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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


def scan_json(*args: str | Path, timeout: float = 300) -> tuple[int, dict[str, Any]]:
    """`dumpguard scan ARGS --format json`: the exit code and the parsed report."""
    run = dumpguard("scan", *args, "--format", "json", timeout=timeout)
    assert run.stdout, run.stderr
    report: dict[str, Any] = json.loads(run.stdout)
    return run.code, report
