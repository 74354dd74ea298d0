"""Live processes for the tests that dump one: wait for its ready line, gcore it, stop it."""

from __future__ import annotations

import selectors
import shutil
import subprocess
from pathlib import Path
from typing import Any, AnyStr

import pytest

GCORE_TIMEOUT = 120


def read_ready_line(process: subprocess.Popen[AnyStr], timeout: float) -> AnyStr:
    """The first line the process prints; TimeoutError if none comes within `timeout` s."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise TimeoutError(f"process {process.pid} printed no line within {timeout} s")
    return process.stdout.readline()


def require_gcore() -> None:
    if shutil.which("gcore") is None:
        pytest.skip("gdb's gcore is not installed (make test installs it)")


def gcore(pid: int, prefix: Path, timeout: float = GCORE_TIMEOUT) -> Path:
    """gdb's gcore of live process `pid`, written as PREFIX.PID; skips where it cannot dump."""
    require_gcore()
    result = subprocess.run(
        ["gcore", "-o", str(prefix), str(pid)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    core = prefix.with_name(f"{prefix.name}.{pid}")
    if result.returncode != 0 or not core.is_file():
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"gcore could not dump the process (ptrace not allowed?): {reason}")
    return core


def stop(process: subprocess.Popen[Any]) -> None:
    process.kill()
    process.wait()
    if process.stdout is not None:
        process.stdout.close()
