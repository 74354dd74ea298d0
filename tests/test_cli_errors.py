"""Usage and configuration errors: one clear line naming the file, exit 2, nothing written."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from tests.clirun import dumpguard
from tests.keyfactory import make_keys


def test_bad_known_keys_entry_names_file_and_line(tmp_path: Path) -> None:
    known = tmp_path / "authorized_keys"
    known.write_text("# team keys\nssh-ed25519 AAAAnot-base64!! someone\n")
    target = tmp_path / "a.raw"
    target.write_bytes(b"nothing here")
    report = tmp_path / "report.json"
    run = dumpguard("scan", target, "--known-keys", known, "--output", report)
    assert run.code == 2
    assert f"{known}:2" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert not report.exists()


def test_private_key_given_as_known_key_is_refused_without_echoing_it(tmp_path: Path) -> None:
    key = make_keys()[1]
    known = tmp_path / "oops.pem"
    known.write_bytes(key.pem())
    run = dumpguard("scan", known, "--known-keys", known)
    assert run.code == 2
    assert "private key" in run.stderr
    for secret in key.secret_strings():
        assert secret not in run.stderr + run.stdout


def test_missing_rules_directory(tmp_path: Path) -> None:
    run = dumpguard("scan", tmp_path, "--rules", tmp_path / "none")
    assert run.code == 2
    assert "none" in run.stderr


def test_unknown_option_value_is_a_usage_error(tmp_path: Path) -> None:
    assert dumpguard("scan", tmp_path, "--fail-on", "severe").code == 2
    assert dumpguard("scan", tmp_path, "--max-expansion", "lots").code == 2


def test_decompression_bomb_stops_at_the_limit_and_fails_closed(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.gz"
    with gzip.open(bomb, "wb") as stream:
        for _ in range(64):
            stream.write(bytes(1 << 20))
    clean = tmp_path / "clean.raw"
    clean.write_bytes(b"no keys")
    run = dumpguard("scan", bomb, clean, "--max-expansion", "8MiB", "--format", "json")
    assert run.code == 2
    inputs = {Path(i["path"]).name: i for i in json.loads(run.stdout)["inputs"]}
    assert inputs["clean.raw"]["status"] == "ok"
    assert inputs["bomb.gz"]["status"] == "error"
    assert "limit" in inputs["bomb.gz"]["error"]


def test_version() -> None:
    run = dumpguard("--version")
    assert run.code == 0
    assert run.stdout.startswith("dumpguard ")
