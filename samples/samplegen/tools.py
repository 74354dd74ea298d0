"""Running the external tools the samples are made with (gdb, openssl, ssh-keygen, zstd, ...)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from samplegen.errors import SampleError

TOOL_TIMEOUT_SECONDS = 120
INSTALL_HINTS = {
    "gcore": "install gdb: apt-get install gdb",
    "gdb": "install gdb: apt-get install gdb",
    "openssl": "install openssl: apt-get install openssl",
    "ssh-keygen": "install ssh-keygen: apt-get install openssh-client",
    "gzip": "install gzip: apt-get install gzip",
    "zstd": "install zstd: apt-get install zstd",
    "xz": "install xz: apt-get install xz-utils",
    "lz4": "install lz4: apt-get install lz4",
    "bzip2": "install bzip2: apt-get install bzip2",
    "java": "install a JDK 17: apt-get install openjdk-17-jdk-headless",
    "javac": "install a JDK 17: apt-get install openjdk-17-jdk-headless",
    "keytool": "install a JDK 17: apt-get install openjdk-17-jdk-headless",
    "puttygen": "install puttygen: apt-get install putty-tools",
    "gpg": "install gpg: apt-get install gnupg",
    "gpgconf": "install gpgconf: apt-get install gnupg",
}


def require_tools(names: list[str]) -> None:
    """Fail with one clear line naming every missing tool and how to get it."""
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        hints = "; ".join(f"{name} not found ({INSTALL_HINTS[name]})" for name in missing)
        raise SampleError(hints)


def run(argv: list[str], stdout_path: Path | None = None) -> bytes:
    """Run a tool to completion; its stdout goes to `stdout_path` or is returned.

    Tool stderr is put in the error only for tools that never echo key material
    (none of ours print keys to stderr).
    """
    try:
        if stdout_path is None:
            done = subprocess.run(
                argv, capture_output=True, timeout=TOOL_TIMEOUT_SECONDS, check=False
            )
        else:
            with stdout_path.open("wb") as stdout:
                done = subprocess.run(
                    argv,
                    stdout=stdout,
                    stderr=subprocess.PIPE,
                    timeout=TOOL_TIMEOUT_SECONDS,
                    check=False,
                )
    except subprocess.TimeoutExpired as error:
        raise SampleError(f"{argv[0]} timed out after {TOOL_TIMEOUT_SECONDS} s") from error
    if done.returncode != 0:
        stderr_tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise SampleError(
            f"{' '.join(argv[:2])} failed ({done.returncode}): {' | '.join(stderr_tail)}"
        )
    return b"" if stdout_path is not None else bytes(done.stdout)
