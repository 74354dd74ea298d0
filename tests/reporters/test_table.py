"""The human table: grouped by input and severity, with process, region and address,
and one sentence per finding saying what was found and why it matters."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.clirun import dumpguard


def test_table_groups_by_input_with_process_and_sentences(samples_out: Path) -> None:
    dumps = samples_out / "dumps"
    planted = samples_out / "planted" / "pem-openssh-encrypted.bin"
    args = (dumps, planted, "--known-keys", samples_out / "known-keys")
    table = dumpguard("scan", *args).stdout
    report = json.loads(dumpguard("scan", *args, "--format", "json").stdout)
    heading = re.compile(r"^\S+ \(.*\): \d+ (critical|high|medium|low|info|suppressed)")
    headings = [line for line in table.splitlines() if heading.match(line)]
    by_path = {result["path"]: result for result in report["inputs"]}
    with_findings = sorted({f["path"] for f in report["findings"]})
    assert sorted(h.split(" (")[0] for h in headings) == with_findings
    # The most severe inputs come first: cores whose keys are known (critical).
    assert ": " in headings[0]
    assert headings[0].split(": ")[-1].split(",")[0].endswith("critical")
    core = by_path[str(dumps / "python-pem.core")]
    (pem_heading,) = [h for h in headings if h.startswith(str(dumps / "python-pem.core"))]
    assert f"process {core['process']}, pid {core['pid']}" in pem_heading
    assert core["pid"] > 0
    assert "(raw)" in next(h for h in headings if h.startswith(str(planted)))
    # Each finding: its address, and a sentence naming the key, the known key and why.
    for finding in report["findings"]:
        assert f"0x{finding['offset']:x}" in table
        if finding["address"] is not None:
            assert f"addr 0x{finding['address']:x}" in table
    flat = " ".join(table.split())
    assert "of known key python-pem-rsa" in flat
    assert "whoever holds this dump can use that key" in flat
    assert "recovered from little-endian limbs" in flat
    assert "EC P-384 encrypted private key" in flat
    assert "protected only by its passphrase" in flat


def test_clean_dump_table_has_no_group(samples_out: Path) -> None:
    run = dumpguard("scan", samples_out / "dumps" / "sleep.core")
    assert run.code == 0
    assert "┏" not in run.stdout
    assert run.stdout.strip().endswith("1 of 1 inputs scanned; 0 findings")
