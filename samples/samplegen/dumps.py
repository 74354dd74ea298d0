"""gcore dumps of real processes that hold (or do not hold) a key.

Each holder is started, prints a ready line once its key is in memory (the
/bin/sleep control has no key and is ready once it sleeps), is dumped with
`gcore -o PREFIX PID` (which writes PREFIX.PID) and is killed right after.
Every core is then checked for the marker that makes it a valid sample, and
the build fails loudly when a marker is missing or a leak is present.
"""

from __future__ import annotations

import os
import re
import selectors
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from samplegen import keys
from samplegen.errors import SampleError
from samplegen.keys import KeyFact, SampleKey
from samplegen.manifest import GCORE, Made, Placement
from samplegen.tools import run

HOLDERS_DIR = Path(__file__).resolve().parents[1] / "holders"
READY_TIMEOUT_SECONDS = 30.0
SLEEP_STATE_TIMEOUT_SECONDS = 5.0
STOP_TIMEOUT_SECONDS = 10.0
ELF_MAGIC = b"\x7fELF"
ET_CORE = 4
ASCII_PRIVATE_KEY_HEADER = b"-----BEGIN PRIVATE KEY-----"
# An ASCII PEM private-key block with a real body (not a bare rodata header).
PEM_PRIVATE_BLOCK = re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----\r?\n[A-Za-z0-9+/]{40}")
UTF16_PEM_PRIVATE_BLOCK = re.compile(
    rb"-\x00-\x00-\x00-\x00-\x00B\x00E\x00G\x00I\x00N\x00 \x00(?:[A-Z0-9 ]\x00)*"
    rb"P\x00R\x00I\x00V\x00A\x00T\x00E\x00 \x00K\x00E\x00Y\x00-\x00-\x00-\x00-\x00-\x00"
    rb"\r?\x00?\n\x00(?:[A-Za-z0-9+/]\x00){40}"
)


@dataclass
class Holder:
    """A running process to dump."""

    name: str
    description: str
    process: subprocess.Popen[bytes] = field(repr=False)
    prints_ready_line: bool
    stderr_path: Path | None = None  # where its stderr goes, quoted when it dies early


def start_python_holder(name: str, script: str, args: list[str], description: str) -> Holder:
    argv = [sys.executable, str(HOLDERS_DIR / script), *args]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    return Holder(name, description, process, prints_ready_line=True)


def start_sleep_holder(name: str, description: str) -> Holder:
    process = subprocess.Popen(["sleep", "60"], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    return Holder(name, description, process, prints_ready_line=False)


def read_ready_line(holder: Holder) -> str:
    """The holder's first stdout line; it must start with READY."""
    return read_until_line(holder, b"READY", first_line_only=True)


def read_until_line(holder: Holder, prefix: bytes, first_line_only: bool = False) -> str:
    """Read the holder's stdout up to a line starting with `prefix` and return that line.

    With `first_line_only` the first line must be it; else earlier lines are
    skipped (openssl prints its set-up lines before ACCEPT).  Lines are never put
    in errors beyond 40 characters of a first line, which holders keep key-free.
    """
    stream = holder.process.stdout
    assert stream is not None
    buffer = b""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while True:
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if line.startswith(prefix):
                    return line.decode(errors="replace")
                if first_line_only:
                    shown = line.decode(errors="replace")[:40]
                    raise SampleError(f"{holder.name}: unexpected first line {shown!r}")
            buffer += read_chunk(holder, selector, deadline, prefix)


def read_chunk(
    holder: Holder, selector: selectors.BaseSelector, deadline: float, prefix: bytes
) -> bytes:
    """The next stdout bytes, or a one-line error once the holder exits or the deadline passes."""
    stream = holder.process.stdout
    assert stream is not None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise SampleError(
                f"{holder.name}: no {prefix.decode()} line within {READY_TIMEOUT_SECONDS} s"
            )
        if selector.select(remaining):
            break
    chunk = os.read(stream.fileno(), 4096)
    if not chunk:
        try:
            status = f"exited ({holder.process.wait(timeout=STOP_TIMEOUT_SECONDS)})"
        except subprocess.TimeoutExpired:
            status = "closed its stdout"
        raise SampleError(f"{holder.name}: {status} before ready{stderr_tail(holder)}")
    return chunk


def stderr_tail(holder: Holder) -> str:
    """The last stderr line, as ": <line>", of a holder whose stderr goes to a file."""
    if holder.stderr_path is None or not holder.stderr_path.is_file():
        return ""
    lines = holder.stderr_path.read_bytes().decode(errors="replace").strip().splitlines()
    return f": {lines[-1][:200]}" if lines else ""


def wait_until_sleeping(holder: Holder) -> None:
    """For /bin/sleep: ready once the kernel shows it blocked in nanosleep (state S)."""
    stat_path = Path(f"/proc/{holder.process.pid}/stat")
    deadline = time.monotonic() + SLEEP_STATE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        # /proc/PID/stat: "pid (comm) state ..."; comm may hold spaces, so split after ')'.
        state = stat_path.read_text().rsplit(")", 1)[1].split()[0]
        if state == "S":
            return
        time.sleep(0.02)
    raise SampleError(f"{holder.name}: not sleeping after {SLEEP_STATE_TIMEOUT_SECONDS} s")


def wait_ready(holder: Holder) -> None:
    if holder.prints_ready_line:
        read_ready_line(holder)
    else:
        wait_until_sleeping(holder)


def gcore(holder: Holder, dumps_dir: Path) -> Path:
    """Dump the holder with `gcore -o PREFIX PID` and rename PREFIX.PID to NAME.core."""
    prefix = dumps_dir / f"{holder.name}.gcore"
    run(["gcore", "-o", str(prefix), str(holder.process.pid)])
    written = Path(f"{prefix}.{holder.process.pid}")
    if not written.is_file():
        raise SampleError(f"{holder.name}: gcore reported success but wrote no {written.name}")
    core_path = dumps_dir / f"{holder.name}.core"
    written.rename(core_path)
    return core_path


def stop(holder: Holder) -> None:
    if holder.process.poll() is None:
        holder.process.kill()
    holder.process.wait(timeout=STOP_TIMEOUT_SECONDS)
    for stream in (holder.process.stdin, holder.process.stdout):
        if stream is not None:
            stream.close()


def check_elf_core(name: str, core: bytes) -> None:
    # ELF header: e_ident[0:4] magic, e_ident[5] data (1 = little endian), e_type at 16.
    if core[:4] != ELF_MAGIC or int.from_bytes(core[16:18], "little") != ET_CORE:
        raise SampleError(f"{name}: gcore output is not an ELF core file")


def utf16le(text: bytes) -> bytes:
    return text.decode("ascii").encode("utf-16-le")


def pem_body_lines(pem: bytes) -> list[bytes]:
    return [line for line in pem.splitlines() if line and not line.startswith(b"-----")]


def check_ascii_pem(name: str, core: bytes, key: SampleKey, key_pem: bytes) -> None:
    if key_pem not in core:
        raise SampleError(f"{name}: the key's ASCII PEM text is not in the core")
    check_no_public_key(name, core, key)


def check_no_public_key(name: str, core: bytes, key: SampleKey) -> None:
    """No SPKI DER of the key: it would be a public-key finding the manifest does not list."""
    spki_der = key.public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if spki_der in core:
        raise SampleError(f"{name}: the key's public half (SPKI DER) is in the core")


def check_utf16_only(name: str, core: bytes, key: SampleKey, key_pem: bytes) -> None:
    """The UTF-16LE PEM is there; no ASCII PEM header, body line or DER copy is."""
    if utf16le(key_pem) not in core:
        raise SampleError(f"{name}: the key's UTF-16LE PEM text is not in the core")
    if ASCII_PRIVATE_KEY_HEADER in core:
        raise SampleError(f"{name}: an ASCII PEM header is in the core (an ASCII copy leaked)")
    if any(line in core for line in pem_body_lines(key_pem)):
        raise SampleError(f"{name}: an ASCII PEM body line is in the core (an ASCII copy leaked)")
    for private_format in (
        serialization.PrivateFormat.PKCS8,
        serialization.PrivateFormat.TraditionalOpenSSL,
    ):
        if key.encode(serialization.Encoding.DER, private_format) in core:
            raise SampleError(f"{name}: a DER copy of the key is in the core")
    check_no_public_key(name, core, key)


def check_clean(name: str, core: bytes) -> None:
    if PEM_PRIVATE_BLOCK.search(core) or UTF16_PEM_PRIVATE_BLOCK.search(core):
        raise SampleError(f"{name}: a PEM private-key block is in the core of a clean control")


Check = Callable[[bytes], None]


def dump_and_check(holder: Holder, dumps_dir: Path, check: Check) -> Path:
    """Dump a holder that is ready, stop it, and check the core."""
    try:
        core_path = gcore(holder, dumps_dir)
    finally:
        stop(holder)
    core = core_path.read_bytes()
    check_elf_core(holder.name, core)
    check(core)
    return core_path


def made(holder: Holder, core_path: Path, out_dir: Path, facts: tuple[KeyFact, ...]) -> Made:
    display_path = core_path.relative_to(out_dir).as_posix()
    placements = tuple(Placement(display_path, None, fact) for fact in facts)
    return Made(display_path, GCORE, holder.description, placements)


def make_dumps(out_dir: Path, keys_dir: Path, utf16_key: SampleKey) -> list[Made]:
    """Start every holder at once (their start-up overlaps), then dump them one by one."""
    dumps_dir = out_dir / "dumps"
    dumps_dir.mkdir()
    pem_key_file = keys_dir / "python-pem.pem"
    utf16_key_file = keys_dir / f"{utf16_key.name}.pem"
    holders = [
        start_python_holder(
            "python-pem",
            "hold_pem.py",
            [str(pem_key_file)],
            "Python process that generated an RSA-2048 key with cryptography, "
            "round-tripped it through PKCS#8 PEM and holds the PEM bytes",
        ),
        start_python_holder(
            "python-utf16",
            "hold_utf16.py",
            [str(utf16_key_file)],
            "Python process holding an EC P-256 PKCS#8 PEM only as UTF-16LE "
            "text (ASCII copy zeroed; verified: no ASCII header, body or DER)",
        ),
        start_sleep_holder("sleep", "clean control: /bin/sleep 60, no key"),
        start_python_holder(
            "python-clean",
            "hold_nothing.py",
            [],
            "clean control: Python with cryptography and ssl imported, no key",
        ),
    ]
    try:
        return [
            dump_python_pem(holders[0], dumps_dir, out_dir, pem_key_file),
            dump_python_utf16(holders[1], dumps_dir, out_dir, utf16_key),
            dump_clean(holders[2], dumps_dir, out_dir),
            dump_clean(holders[3], dumps_dir, out_dir),
        ]
    finally:
        for holder in holders:
            stop(holder)


def dump_python_pem(holder: Holder, dumps_dir: Path, out_dir: Path, key_file: Path) -> Made:
    wait_ready(holder)
    key = keys.load(key_file)
    key_pem = key_file.read_bytes()
    core_path = dump_and_check(
        holder, dumps_dir, lambda core: check_ascii_pem(holder.name, core, key, key_pem)
    )
    return made(holder, core_path, out_dir, (key.fact(),))


def dump_python_utf16(holder: Holder, dumps_dir: Path, out_dir: Path, key: SampleKey) -> Made:
    wait_ready(holder)
    key_pem = key.pkcs8_pem()
    core_path = dump_and_check(
        holder, dumps_dir, lambda core: check_utf16_only(holder.name, core, key, key_pem)
    )
    return made(holder, core_path, out_dir, (key.fact(),))


def dump_clean(holder: Holder, dumps_dir: Path, out_dir: Path) -> Made:
    wait_ready(holder)
    core_path = dump_and_check(holder, dumps_dir, lambda core: check_clean(holder.name, core))
    return made(holder, core_path, out_dir, ())
