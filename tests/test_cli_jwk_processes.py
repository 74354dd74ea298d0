"""JWKs, UTF-16 PEMs and base64 DER in real process dumps, minidumps and containers.

Real processes: a JVM holding a PEM, a JWK and a base64 DER key as Strings
(samples/holders/HoldJwkKeys.java), run once with compact strings (Latin-1
bytes in memory) and once with -XX:-CompactStrings (UTF-16LE in memory), and a
Node.js process holding a JWK node itself wrote, as text and as the object
JSON.parse made (samples/holders/hold_jwk.js).  They are dumped with gdb's
gcore through samples/samplegen/dumps.py, the mechanism `make samples` uses.

No tool here writes Windows minidumps, so the minidump is built by the
spec-exact writer of tests/formats/test_minidump.py (from the minidumpapiset.h
layouts, cross-checked there against the `minidump` package).  Containers are
made with the `zstd` tool and Python's zipfile.

Every key is found by the real CLI with the fingerprint its own tool gives.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import os
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from tests.clirun import dumpguard
from tests.detectors.test_jwk import jwk_of
from tests.formats.test_minidump import Module, build_minidump

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
HOLDERS = SAMPLES / "holders"
# Small heaps and one malloc arena keep a JVM core near 130 MB; coredump_filter
# 0x1 (anonymous private mappings only, core(5)) leaves out the mapped JDK files.
JVM_OPTIONS = (
    "-Xmx16m",
    "-Xms4m",
    "-XX:+UseSerialGC",
    "-XX:ReservedCodeCacheSize=8m",
    "-XX:MaxMetaspaceSize=24m",
    "-Xint",
    "-XX:-UsePerfData",
    "-Xshare:off",
)
NODE_OPTIONS = ("--max-old-space-size=16", "--max-semi-space-size=1")
COREDUMP_FILTER_ANONYMOUS_PRIVATE = "0x1"

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class HeldKey:
    """One key and the text a holder keeps of it; `fingerprint` is from `cryptography`."""

    name: str
    text: bytes = field(repr=False)
    fingerprint: str


def fingerprint_of(key: PrivateKeyTypes) -> str:
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(spki).hexdigest()


def _der(key: PrivateKeyTypes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture(scope="module")
def held_keys() -> dict[str, HeldKey]:
    """Three keys, so each finding names the encoding it came from."""
    pem_key = ec.generate_private_key(ec.SECP256R1())
    jwk_key = rsa.generate_private_key(65537, 2048)
    base64_key = ed25519.Ed25519PrivateKey.generate()
    pem = pem_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return {
        "pem": HeldKey("pem", pem, fingerprint_of(pem_key)),
        "jwk": HeldKey("jwk", json.dumps(jwk_of(jwk_key)[0]).encode(), fingerprint_of(jwk_key)),
        "base64": HeldKey("base64", base64.b64encode(_der(base64_key)), fingerprint_of(base64_key)),
    }


@pytest.fixture(scope="module")
def key_files(tmp_path_factory: pytest.TempPathFactory, held_keys: dict[str, HeldKey]) -> Path:
    directory = tmp_path_factory.mktemp("held-keys")
    for key in held_keys.values():
        (directory / key.name).write_bytes(key.text)
    return directory


@pytest.fixture(scope="module")
def dumps() -> ModuleType:
    """samples/samplegen/dumps.py: start, wait for READY, gcore, stop, check."""
    if shutil.which("gcore") is None:
        pytest.skip("gdb's gcore is not installed (make test installs it)")
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(SAMPLES))
        return importlib.import_module("samplegen.dumps")


def dump_holder(
    dumps: ModuleType, name: str, argv: list[str], out: Path, check: Callable[[bytes], None]
) -> Path:
    environment = {**os.environ, "MALLOC_ARENA_MAX": "1"}
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env=environment
    )
    holder = dumps.Holder(name, f"{name} holder", process, prints_ready_line=True)
    try:
        dumps.wait_ready(holder)
        Path(f"/proc/{process.pid}/coredump_filter").write_text(COREDUMP_FILTER_ANONYMOUS_PRIVATE)
    except BaseException:
        dumps.stop(holder)
        raise
    core: Path = dumps.dump_and_check(holder, out, check)
    return core


def scan_findings(*paths: Path) -> list[dict[str, Any]]:
    run = dumpguard("scan", *paths, "--format", "json", timeout=600)
    assert run.code == 1, run.stderr
    report = json.loads(run.stdout)
    assert [i["path"] for i in report["inputs"] if i["status"] != "ok"] == []
    findings: list[dict[str, Any]] = report["findings"]
    return findings


def found(findings: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """(detector, encoding, fingerprint) of every private-key finding."""
    return {
        (f["detector"], f["encoding"], f["fingerprint"])
        for f in findings
        if f["kind"] == "private-key"
    }


# --- a JVM holding Strings ------------------------------------------------------------------


@pytest.fixture(scope="module")
def java_classes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("javac") is None or shutil.which("java") is None:
        pytest.skip("no JDK (javac, java) installed")
    classes = tmp_path_factory.mktemp("java-classes")
    source = HOLDERS / "HoldJwkKeys.java"
    subprocess.run(["javac", "-d", str(classes), str(source)], check=True, timeout=120)
    return classes


def _java_core(
    dumps: ModuleType,
    classes: Path,
    key_files: Path,
    out: Path,
    *,
    options: tuple[str, ...],
    check: Callable[[bytes], None],
) -> Path:
    files = [str(key_files / name) for name in ("pem", "jwk", "base64")]
    argv = ["java", *JVM_OPTIONS, *options, "-cp", str(classes), "HoldJwkKeys", *files]
    return dump_holder(dumps, "java", argv, out, check)


def test_jvm_with_compact_strings_holds_latin1_text(
    dumps: ModuleType,
    java_classes: Path,
    key_files: Path,
    held_keys: dict[str, HeldKey],
    tmp_path: Path,
) -> None:
    pem = held_keys["pem"].text

    def latin1_strings(core: bytes) -> None:
        assert pem in core  # compact strings: one byte a character

    core = _java_core(dumps, java_classes, key_files, tmp_path, options=(), check=latin1_strings)
    assert found(scan_findings(core)) >= {
        ("pem", "ascii", held_keys["pem"].fingerprint),
        ("jwk", "json", held_keys["jwk"].fingerprint),
        ("base64-der", "base64", held_keys["base64"].fingerprint),
    }


def test_jvm_without_compact_strings_holds_utf16le_text(
    dumps: ModuleType,
    java_classes: Path,
    key_files: Path,
    held_keys: dict[str, HeldKey],
    tmp_path: Path,
) -> None:
    pem = held_keys["pem"].text

    def utf16_strings(core: bytes) -> None:
        assert pem.decode().encode("utf-16le") in core  # x86 and arm64 are little-endian

    options = ("-XX:-CompactStrings",)
    core = _java_core(
        dumps, java_classes, key_files, tmp_path, options=options, check=utf16_strings
    )
    assert found(scan_findings(core)) >= {
        ("pem", "utf-16le", held_keys["pem"].fingerprint),
        ("jwk", "json-utf-16le", held_keys["jwk"].fingerprint),
        ("base64-der", "base64-utf-16le", held_keys["base64"].fingerprint),
    }


# --- a Node.js process holding a JWK it parsed -------------------------------------------------

NODE_KEY_SCRIPT = """
const crypto = require('crypto');
const pair = crypto.generateKeyPairSync('ec', {namedCurve: 'P-384'});
console.log(JSON.stringify({jwk: pair.privateKey.export({format: 'jwk'}),
  spki: pair.publicKey.export({format: 'der', type: 'spki'}).toString('base64')}));
"""


def test_node_process_holding_a_parsed_jwk(dumps: ModuleType, tmp_path: Path) -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    made = json.loads(
        subprocess.run(["node", "-e", NODE_KEY_SCRIPT], capture_output=True, check=True).stdout
    )
    jwk_text = json.dumps(made["jwk"]).encode()
    fingerprint = "sha256:" + hashlib.sha256(base64.b64decode(made["spki"])).hexdigest()
    key_file = tmp_path / "key.jwk"
    key_file.write_bytes(jwk_text)

    def holds_the_text(core: bytes) -> None:
        assert jwk_text in core

    argv = ["node", *NODE_OPTIONS, str(HOLDERS / "hold_jwk.js"), str(key_file)]
    core = dump_holder(dumps, "node", argv, tmp_path, holds_the_text)
    key_file.unlink()
    findings = scan_findings(core)
    assert ("jwk", "json", fingerprint) in found(findings)
    [finding] = {f["fingerprint"]: f for f in findings if f["detector"] == "jwk"}.values()
    assert finding["format"] == "elf-core"
    assert finding["address"] is not None


# --- a minidump, and containers ------------------------------------------------------------------

HEAP_BASE = 0x0000_01D0_0000_0000
APP = Module(base=0x7FF6_1000_0000, size=0x10000, path="C:\\Program Files\\Demo\\app.exe")


@dataclass(frozen=True)
class MinidumpPlan:
    data: bytes = field(repr=False)
    addresses: dict[str, int]


def minidump_with_keys(held_keys: dict[str, HeldKey]) -> MinidumpPlan:
    """Three heap ranges: a UTF-16LE PEM (a .NET string), a base64 DER, a UTF-16LE JWK."""
    stored = {
        "pem": held_keys["pem"].text.decode().encode("utf-16le"),
        "base64": b"ConnectionKey=" + held_keys["base64"].text + b";",
        "jwk": held_keys["jwk"].text.decode().encode("utf-16le"),
    }
    memory64 = []
    addresses = {}
    for index, (name, text) in enumerate(stored.items()):
        base = HEAP_BASE + index * 0x10000
        page = bytearray(os.urandom(0x3000))
        at = 0x100 + 2 * index
        page[at : at + len(text)] = text
        memory64.append((base, bytes(page)))
        addresses[name] = base + at + (len(b"ConnectionKey=") if name == "base64" else 0)
    return MinidumpPlan(build_minidump(memory64, modules=[APP], pid=4242).data, addresses)


EXPECTED_IN_MINIDUMP = {
    "pem": ("pem", "utf-16le"),
    "base64": ("base64-der", "base64"),
    "jwk": ("jwk", "json-utf-16le"),
}


def _assert_minidump_findings(
    findings: list[dict[str, Any]], held_keys: dict[str, HeldKey], plan: MinidumpPlan, path: str
) -> None:
    mine = [f for f in findings if f["path"] == path or f["path"].startswith(path + "!")]
    by_fingerprint = {f["fingerprint"]: f for f in mine}
    assert len(by_fingerprint) == len(mine) == 3
    for name, (detector, encoding) in EXPECTED_IN_MINIDUMP.items():
        finding = by_fingerprint[held_keys[name].fingerprint]
        assert (finding["detector"], finding["encoding"]) == (detector, encoding)
        assert finding["format"] == "minidump"
        assert finding["address"] == plan.addresses[name]


def test_minidump_and_its_zstd_and_zip_containers(
    held_keys: dict[str, HeldKey], tmp_path: Path
) -> None:
    if shutil.which("zstd") is None:
        pytest.skip("zstd is not installed")
    plan = minidump_with_keys(held_keys)
    plain = tmp_path / "app.dmp"
    plain.write_bytes(plan.data)
    compressed = tmp_path / "app.dmp.zst"
    subprocess.run(["zstd", "-q", "-3", str(plain), "-o", str(compressed)], check=True)
    zipped = tmp_path / "crash.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(plain, "dumps/app.dmp")
    findings = scan_findings(plain, compressed, zipped)
    for path in (plain, compressed, zipped):
        _assert_minidump_findings(findings, held_keys, plan, str(path))
