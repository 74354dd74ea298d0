"""`dumpguard export`: the export gate.  Clean dumps copied, dumps with keys refused or
scrubbed, unscannable dumps refused, every decision in the audit log, and never a
partial file in the export directory, even when the export is killed."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.clirun import dumpguard


def audit(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def export_until_staged(source: Path, target: Path, staging: Path) -> subprocess.Popen[bytes]:
    """Start `dumpguard export` and return once it has begun copying into staging."""
    process = subprocess.Popen(
        [sys.executable, "-m", "scanner", "export", str(source), "--to", str(target)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not (staging / "copy").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return process


def test_clean_copied_keys_refused_unscannable_refused(samples_out: Path, tmp_path: Path) -> None:
    source = tmp_path / "dumps"
    source.mkdir()
    for name in ("sleep.core", "python-pem.core"):
        shutil.copy(samples_out / "dumps" / name, source / name)
    (source / "cut.core").write_bytes((source / "python-pem.core").read_bytes()[:3000])
    target = tmp_path / "export"
    run = dumpguard("export", source, "--to", target)
    assert run.code == 1, run.stdout + run.stderr  # a dump was refused for its key
    records = {Path(r["path"]).name: r for r in audit(target / "dumpguard-audit.jsonl")}
    assert {name: r["decision"] for name, r in records.items()} == {
        "cut.core": "refused-unscannable",
        "python-pem.core": "refused-findings",
        "sleep.core": "exported",
    }
    assert sorted(p.name for p in target.iterdir()) == ["dumpguard-audit.jsonl", "sleep.core"]
    clean = records["sleep.core"]
    assert clean["sha256_before"] == clean["sha256_after"] == sha256(source / "sleep.core")
    assert (target / "sleep.core").read_bytes() == (source / "sleep.core").read_bytes()
    assert clean["size"] == (source / "sleep.core").stat().st_size
    refused = records["python-pem.core"]
    assert refused["sha256_after"] is None
    assert refused["fingerprints"]
    assert refused["fingerprints"][0].startswith("sha256:")
    assert records["cut.core"]["reason"]
    assert "cut.core" in records["cut.core"]["reason"]
    assert not list(tmp_path.glob(".export.dumpguard-staging*"))
    time.strptime(clean["time"][:19], "%Y-%m-%dT%H:%M:%S")


def test_scrub_exports_a_clean_copy_and_logs_both_hashes(samples_out: Path, tmp_path: Path) -> None:
    dump = samples_out / "dumps" / "python-pem.core"
    target = tmp_path / "export"
    run = dumpguard(
        "export", dump, "--to", target, "--scrub", "--known-keys", samples_out / "known-keys"
    )
    assert run.code == 0, run.stdout + run.stderr
    (record,) = audit(target / "dumpguard-audit.jsonl")
    exported = target / "python-pem.core"
    assert record["decision"] == "exported-scrubbed"
    assert record["sha256_before"] == sha256(dump)
    assert record["sha256_after"] == sha256(exported) != record["sha256_before"]
    scan = dumpguard("scan", exported, "--known-keys", samples_out / "known-keys")
    assert scan.code == 0, scan.stdout


def test_existing_file_is_not_replaced(samples_out: Path, tmp_path: Path) -> None:
    target = tmp_path / "export"
    target.mkdir()
    (target / "sleep.core").write_bytes(b"already here")
    run = dumpguard("export", samples_out / "dumps" / "sleep.core", "--to", target)
    assert run.code == 2
    assert (target / "sleep.core").read_bytes() == b"already here"
    assert audit(target / "dumpguard-audit.jsonl")[0]["decision"] == "refused-exists"


def test_killed_export_leaves_no_partial_file(tmp_path: Path) -> None:
    """SIGKILL while a large dump is being copied and scanned: DIR holds nothing partial,
    and the next run clears the staging leftovers and exports the file whole."""
    big = tmp_path / "big.raw"
    with big.open("wb") as stream:
        for _ in range(96):  # 96 MiB of incompressible, key-free bytes
            stream.write(os.urandom(1024 * 1024))
    target = tmp_path / "export"
    staging = tmp_path / ".export.dumpguard-staging"
    process = export_until_staged(big, target, staging)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert (staging / "copy").exists()  # killed mid-way: the copy was being made or scanned
    assert not (target / "big.raw").exists()
    assert [p.name for p in target.iterdir()] in ([], ["dumpguard-audit.jsonl"])

    again = dumpguard("export", big, "--to", target)
    assert again.code == 0, again.stdout + again.stderr
    assert sha256(target / "big.raw") == sha256(big)
    assert not staging.exists()


def test_interrupted_export_cleans_its_staging(samples_out: Path, tmp_path: Path) -> None:
    """Ctrl-C (SIGINT): the staging directory is removed on the way out."""
    big = tmp_path / "big.raw"
    big.write_bytes(os.urandom(64 * 1024 * 1024))
    target = tmp_path / "export"
    staging = tmp_path / ".export.dumpguard-staging"
    process = export_until_staged(big, target, staging)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) != 0
    assert not staging.exists()
    assert not (target / "big.raw").exists()
