"""The volatility3 plugin, run by volatility3's own command line (`vol`) on a LiME image.

The image is written by the spec-exact LiME writer of tests/formats; the keys are
made by `cryptography` at test time.  `vol` runs offline: no symbols are needed
because the plugin scans the physical layer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.clirun import dumpguard
from tests.formats.memimage_writers import lime
from tests.keyfactory import SampleKey, make_keys

RSA_AT, EC_AT = 0x101388, 0x400000 + 777


def vol(*args: str | Path) -> list[dict[str, Any]]:
    vol_script = Path(sys.executable).with_name("vol")
    if not vol_script.exists():
        pytest.skip("volatility3's vol command is not installed beside this Python")
    plugin_dir = dumpguard("volatility-plugin-dir").stdout.strip()
    run = subprocess.run(
        [str(vol_script), "-q", "--offline", "-r", "json", "-p", plugin_dir, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    rows: list[dict[str, Any]] = json.loads(run.stdout)
    return rows


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[SampleKey]]:
    keys = make_keys()[:2]
    first = bytearray(os.urandom(0x3000))
    pem = keys[0].pem()
    first[RSA_AT - 0x100000 : RSA_AT - 0x100000 + len(pem)] = pem
    second = bytearray(os.urandom(0x2000))
    der = keys[1].der()
    second[EC_AT - 0x400000 : EC_AT - 0x400000 + len(der)] = der
    path = tmp_path_factory.mktemp("vol") / "memory.lime"
    path.write_bytes(lime([(0x100000, bytes(first)), (0x400000, bytes(second))]))
    return path, keys


def test_plugin_finds_planted_keys_at_their_physical_addresses(
    image: tuple[Path, list[SampleKey]],
) -> None:
    path, keys = image
    rows = vol("-f", path, "dumpguard")
    found = {(row["Address"], row["Fingerprint"], row["Severity"]) for row in rows}
    assert found == {
        (RSA_AT, keys[0].fingerprint, "high"),
        (EC_AT, keys[1].fingerprint, "high"),
    }
    for row in rows:
        for key in keys:
            for secret in key.secret_strings():
                assert secret not in json.dumps(row)


def test_plugin_matches_known_keys(image: tuple[Path, list[SampleKey]], tmp_path: Path) -> None:
    path, keys = image
    known = tmp_path / "known.pem"
    known.write_bytes(keys[0].public_pem())
    rows = vol("-f", path, "dumpguard", "--known-keys", known)
    by_fingerprint = {row["Fingerprint"]: row for row in rows}
    assert by_fingerprint[keys[0].fingerprint]["Severity"] == "critical"
    assert by_fingerprint[keys[0].fingerprint]["Known key"] != "-"
    assert by_fingerprint[keys[1].fingerprint]["Severity"] == "high"


def test_plugin_and_scan_agree(image: tuple[Path, list[SampleKey]]) -> None:
    """dumpguard scan reads the same LiME image itself: same keys, same addresses."""
    path, _ = image
    report = json.loads(dumpguard("scan", path, "--format", "json").stdout)
    from_scan = {(f["address"], f["fingerprint"]) for f in report["findings"]}
    from_plugin = {(row["Address"], row["Fingerprint"]) for row in vol("-f", path, "dumpguard")}
    assert from_plugin == from_scan
