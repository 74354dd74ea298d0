"""The real CLI over every third-party dump in ../shared/corpus.

Every file is read, or refused with a clear one-line error naming it; none
crashes or hangs; none holds a private key (MANIFEST.md: they are negative
samples).  Public keys or certificates would be info, and there are none
either, but only private keys are asserted absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clirun import dumpguard

# Files the corpus MANIFEST describes as cut short or malformed on purpose.
BROKEN_ON_PURPOSE = {
    "sourceware-org_elfutils__testfile62",
    "rust-minidump_rust-minidump__invalid-range.dmp",
    "rust-minidump_rust-minidump__invalid-record-count.dmp",
    "WerWolv_ImHex-Patterns__dmp64.hexpat.bin",  # a 16 KiB cut of a full kernel dump
}


@pytest.fixture(scope="module")
def corpus_report(corpus_dir: Path) -> dict[str, object]:
    run = dumpguard("scan", corpus_dir, "--format", "json", "--fail-on", "low", timeout=600)
    assert run.code in (0, 2), run.stderr
    report: dict[str, object] = json.loads(run.stdout)
    return report


def test_every_corpus_file_is_an_input(corpus_report: dict, corpus_dir: Path) -> None:
    files = {p.name for p in corpus_dir.rglob("*") if p.is_file() and p.name != "MANIFEST.md"}
    reported = {Path(i["path"].split("!")[0]).name for i in corpus_report["inputs"]}
    assert files <= reported


def test_formats_are_recognised(corpus_report: dict) -> None:
    by_dir: dict[str, set[str]] = {}
    for entry in corpus_report["inputs"]:
        directory = Path(entry["path"].split("!")[0]).parent.name
        by_dir.setdefault(directory, set()).add(entry["format"])
    assert by_dir["elfcore"] <= {"elf-core"}
    assert by_dir["minidump"] <= {"minidump"}
    assert by_dir["hprof"] == {"hprof"}
    assert by_dir["lime"] == by_dir["vmcore"] == by_dir["kernel_crashdump"] == {"memory-image"}


def test_only_files_broken_on_purpose_are_errors(corpus_report: dict) -> None:
    errors = {
        Path(i["path"]).name: i["error"] for i in corpus_report["inputs"] if i["status"] == "error"
    }
    assert set(errors) <= BROKEN_ON_PURPOSE, errors
    for name, message in errors.items():
        assert name in message
        assert "\n" not in message


def test_no_private_key_in_any_corpus_file(corpus_report: dict) -> None:
    private = [
        f
        for f in corpus_report["findings"]
        if f["kind"] != "certificate" and f["kind"] != "public-key"
    ]
    assert private == []


def test_compressed_corpus_cores_are_unpacked(corpus_report: dict) -> None:
    unpacked = [i for i in corpus_report["inputs"] if i["containers"] == ["bzip2"]]
    assert len(unpacked) == 8
    assert all(i["format"] == "elf-core" and i["status"] == "ok" for i in unpacked)
