"""`dumpguard keys PATH...`: what --known-keys would load, checked before trusting a gate."""

from __future__ import annotations

import json
from pathlib import Path

from tests.clirun import dumpguard


def test_keys_lists_every_known_key_with_its_fingerprint(samples_out: Path) -> None:
    known = samples_out / "known-keys"
    run = dumpguard("keys", known, "--format", "json")
    assert run.code == 0, run.stderr
    listed = json.loads(run.stdout)["keys"]
    # The scan matches exactly these fingerprints: a planted key's critical finding
    # names one of them.
    report = json.loads(
        dumpguard(
            "scan",
            samples_out / "dumps" / "python-pem.core",
            "--known-keys",
            known,
            "--format",
            "json",
        ).stdout
    )
    matched = {f["known_key"]["id"]: f["fingerprint"] for f in report["findings"]}
    by_id = {key["id"]: key for key in listed}
    for key_id, fingerprint in matched.items():
        assert by_id[key_id]["fingerprint"] == fingerprint
    for key in listed:
        assert key["fingerprint"].startswith("sha256:")
        assert key["algorithm"] in {"RSA", "EC", "DSA", "Ed25519", "X25519", "Ed448", "X448"}
        assert Path(key["source"].rsplit(":", 1)[0]).is_file()
    table = dumpguard("keys", known)
    assert table.code == 0
    for key in listed:
        assert key["fingerprint"] in table.stdout
    assert f"{len(listed)} known keys" in table.stdout


def test_keys_refuses_a_file_without_keys(tmp_path: Path) -> None:
    wrong = tmp_path / "core.dump"
    wrong.write_bytes(b"\x7fELF" + bytes(60))
    run = dumpguard("keys", wrong)
    assert run.code == 2
    assert str(wrong) in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
