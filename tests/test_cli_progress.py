"""Progress on stderr: shown only when stderr is a terminal, never in machine output,
and off with --quiet.  The terminal is a real pseudo-terminal (pty)."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path


def run_with_tty_stderr(*args: str | Path) -> tuple[int, str, str]:
    """Run the CLI with stdout a pipe and stderr a pseudo-terminal; (code, stdout, tty text)."""
    controller, terminal = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "scanner", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=terminal,
        env={**os.environ, "COLUMNS": "160", "TERM": "xterm"},
    ) as process:
        os.close(terminal)
        seen = bytearray()
        while True:
            try:
                data = os.read(controller, 65536)
            except OSError:  # the terminal closes when the process ends (EIO)
                break
            if not data:
                break
            seen += data
        stdout = process.stdout.read() if process.stdout else b""
        code = process.wait(timeout=300)
    os.close(controller)
    return code, stdout.decode(), seen.decode("utf-8", "replace")


def test_progress_goes_to_a_terminal_stderr_and_never_to_stdout(samples_out: Path) -> None:
    core = samples_out / "dumps" / "python-pem.core"
    known = samples_out / "known-keys"
    code, stdout, terminal = run_with_tty_stderr(
        "scan", core, "--known-keys", known, "--format", "json"
    )
    assert code == 1
    report = json.loads(stdout)  # machine output is pure JSON
    assert report["findings"]
    assert "python-pem.core" in terminal
    assert "MiB" in terminal or "KiB" in terminal  # bytes done of total


def test_quiet_turns_progress_off(samples_out: Path) -> None:
    core = samples_out / "dumps" / "python-pem.core"
    code, stdout, terminal = run_with_tty_stderr("scan", core, "--quiet", "--format", "json")
    assert code == 1
    assert json.loads(stdout)["findings"]
    assert terminal == ""
