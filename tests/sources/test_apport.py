"""apport .crash reports: the base64 CoreDump field decoded to a member, errors as data.

Reports are written by tests/sources/apport_writer.py exactly as apport's
problem_report.py writes them (apport itself is not installed here); the core
is a real gcore dump of a Python process holding a PEM key.
"""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.errors import SourceError
from scanner.sources import container_for
from scanner.sources.apport import Apport
from scanner.sources.base import Blob, Skipped, Spool
from tests.clirun import scan_json
from tests.keyfactory import SampleKey, make_keys
from tests.sources.apport_writer import write_report
from tests.sources.pem_core import PemCore, dump_pem_holder

TEXT_FIELDS = {
    "Date": "Sat Nov 28 17:00:00 2026",
    "ExecutablePath": "/usr/bin/python3.11",
    "ProcCmdline": "python3 hold_pem.py",
    "ProcMaps": "55d0c0000000-55d0c0001000 r--p 00000000 08:01 1234 /usr/bin/python3.11\n"
    "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]",
    "Signal": "11",
}


@pytest.fixture(scope="module")
def pem_core(tmp_path_factory: pytest.TempPathFactory) -> PemCore:
    return dump_pem_holder(tmp_path_factory.mktemp("apport-core"))


@pytest.fixture(scope="module")
def rsa_key() -> SampleKey:
    return make_keys()[0]


def crash_file(
    path: Path,
    binary: dict[str, bytes | Path],
    text: dict[str, str] | None = None,
    legacy_zlib: bool = False,
) -> Path:
    streams = {
        key: value.open("rb") if isinstance(value, Path) else io.BytesIO(value)
        for key, value in binary.items()
    }
    try:
        with path.open("wb") as out:
            write_report(
                out, TEXT_FIELDS if text is None else text, streams, legacy_zlib=legacy_zlib
            )
    finally:
        for stream in streams.values():
            stream.close()
    return path


def unpacked(path: Path, tmp_path: Path) -> dict[str, bytes]:
    """Every member the container yields, by display path, as bytes."""
    blob = Blob(display_path="report.crash", file=path, size=path.stat().st_size)
    members: dict[str, bytes] = {}
    with Spool(1 << 30, tmp_path) as spool:
        for member in Apport().unpack(blob, spool):
            assert not isinstance(member, Skipped)
            members[member.display_path] = member.file.read_bytes()
    return members


def inputs_by_path(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {Path(i["path"]).name: i for i in report["inputs"]}


# --- real cores ---------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("legacy_zlib", [False, True], ids=["gzip", "legacy-zlib"])
def test_key_in_the_core_of_a_crash_report_is_found(
    pem_core: PemCore, tmp_path: Path, legacy_zlib: bool
) -> None:
    report_path = crash_file(
        tmp_path / "_usr_bin_python3.11.1000.crash",
        {"CoreDump": pem_core.core},
        legacy_zlib=legacy_zlib,
    )

    code, report = scan_json(report_path)

    assert code == 1
    inputs = inputs_by_path(report)
    core_input = inputs["_usr_bin_python3.11.1000.crash!CoreDump"]
    assert (core_input["status"], core_input["format"], core_input["containers"]) == (
        "ok",
        "elf-core",
        ["apport"],
    )
    assert core_input["size"] == pem_core.core.stat().st_size
    assert inputs["_usr_bin_python3.11.1000.crash!fields"]["status"] == "ok"
    found = [f for f in report["findings"] if f["fingerprint"] == pem_core.fingerprint]
    assert found
    for finding in found:
        assert finding["path"] == f"{report_path}!CoreDump"
        assert finding["format"] == "elf-core"
        assert finding["severity"] == "high"


@pytest.mark.slow
def test_the_core_member_is_the_core_byte_for_byte(pem_core: PemCore, tmp_path: Path) -> None:
    report_path = crash_file(tmp_path / "r.crash", {"CoreDump": pem_core.core})

    members = unpacked(report_path, tmp_path)

    assert members["report.crash!CoreDump"] == pem_core.core.read_bytes()


# --- the format -------------------------------------------------------------------


def test_every_base64_field_is_a_member_and_the_text_fields_one_more(tmp_path: Path) -> None:
    core_bytes, attachment = os.urandom(3 << 20), b"attached log\n" * 1000
    report_path = crash_file(
        tmp_path / "r.crash", {"CoreDump": core_bytes, "VarLogApport": attachment}
    )

    members = unpacked(report_path, tmp_path)

    assert list(members) == [
        "report.crash!CoreDump",
        "report.crash!VarLogApport",
        "report.crash!fields",
    ]
    assert members["report.crash!CoreDump"] == core_bytes
    assert members["report.crash!VarLogApport"] == attachment
    fields = members["report.crash!fields"]
    assert fields.startswith(b"Date: ")
    assert b"ProblemType" not in fields
    assert b"base64" not in fields
    assert b" 7ffd00000000-7ffd00021000 rw-p" in fields  # continuation lines are kept


def test_probe_takes_reports_and_nothing_else() -> None:
    assert isinstance(container_for(b"ProblemType: Crash\nDate: x\n"), Apport)
    assert container_for(b"ProblemType:Crash\n") is None
    assert container_for(b"Date: x\nProblemType: Crash\n") is None


def test_a_report_without_binary_fields_is_scanned_as_itself(
    tmp_path: Path, rsa_key: SampleKey
) -> None:
    text = {"Date": "today", "ProcEnviron": rsa_key.pem().decode().strip()}
    report_path = crash_file(tmp_path / "text-only.crash", {}, text=text)

    code, report = scan_json(report_path)

    assert code == 1
    (finding,) = report["findings"]
    assert finding["fingerprint"] == rsa_key.fingerprint
    assert finding["path"] == str(report_path)


def test_a_key_in_a_text_field_of_a_report_with_a_core_is_found_in_fields(
    tmp_path: Path, rsa_key: SampleKey
) -> None:
    text = {"Date": "today", "ProcEnviron": rsa_key.pem().decode().strip()}
    report_path = crash_file(tmp_path / "r.crash", {"CoreDump": b"\0" * 4096}, text=text)

    code, report = scan_json(report_path)

    assert code == 1
    (finding,) = report["findings"]
    assert finding["path"] == f"{report_path}!fields"
    assert finding["fingerprint"] == rsa_key.fingerprint


# --- bad reports --------------------------------------------------------------------


def core_lines(path: Path) -> tuple[bytes, list[bytes], bytes]:
    """The report split into: up to the CoreDump key line, its data lines, the rest."""
    data = path.read_bytes()
    start = data.index(b"CoreDump: base64\n") + len(b"CoreDump: base64\n")
    lines = data[start:].split(b"\n")
    data_lines = [line for line in lines if line.startswith(b" ")]
    rest = b"\n".join(lines[len(data_lines) :])
    return data[:start], data_lines, rest


@pytest.fixture
def damaged_reports(tmp_path: Path, rsa_key: SampleKey) -> dict[str, Path]:
    """One good raw file with a key, and reports damaged in each way."""
    good = crash_file(tmp_path / "good.crash", {"CoreDump": os.urandom(1 << 20) + rsa_key.pem()})
    head, lines, rest = core_lines(good)
    corrupt = bytearray(base64.b64decode(lines[1]))
    corrupt[10:20] = b"\xff" * 10
    corrupt_line = b" " + base64.b64encode(bytes(corrupt))
    bad_base64_line = b" !!!!" + lines[1][5:]
    reports = {
        "truncated.crash": head + b"\n".join(lines[:-2]) + b"\n",
        "cut-mid-line.crash": head + b"\n".join(lines[:2]) + b"\n" + lines[2][:-7],
        "corrupt.crash": head + b"\n".join([lines[0], corrupt_line, *lines[2:]]) + b"\n" + rest,
        "bad-base64.crash": head
        + b"\n".join([lines[0], bad_base64_line, *lines[2:]])
        + b"\n"
        + rest,
        "trailing.crash": head + b"\n".join([*lines, b" QUJD"]) + b"\n" + rest,
        "malformed.crash": b"ProblemType: Crash\nno colon on this line\nCoreDump: base64\n"
        + b"\n".join(lines)
        + b"\n",
    }
    paths = {name: tmp_path / name for name in reports}
    for name, data in reports.items():
        paths[name].write_bytes(data)
    (tmp_path / "key.raw").write_bytes(b"\0" * 100 + rsa_key.pem())
    paths["key.raw"] = tmp_path / "key.raw"
    good.unlink()
    return paths


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (
            "truncated.crash",
            "CoreDump: truncated crash report field: the compressed stream ends early",
        ),
        ("cut-mid-line.crash", "CoreDump: truncated crash report field: the report ends inside"),
        ("corrupt.crash", "CoreDump: corrupt crash report field: "),
        ("bad-base64.crash", "CoreDump: corrupt crash report field: bad base64"),
        (
            "trailing.crash",
            "CoreDump: corrupt crash report field: data after the end of the compressed stream",
        ),
        ("malformed.crash", "malformed crash report: the line at offset 19 is neither"),
    ],
)
def test_a_damaged_report_is_one_error_line_and_other_inputs_are_scanned(
    damaged_reports: dict[str, Path], rsa_key: SampleKey, name: str, reason: str
) -> None:
    code, report = scan_json(damaged_reports[name], damaged_reports["key.raw"])

    inputs = inputs_by_path(report)
    assert inputs[name]["status"] == "error"
    assert inputs[name]["containers"] in ([], ["apport"], None)
    error = inputs[name]["error"]
    assert reason in error
    assert error.startswith(str(damaged_reports[name]))
    assert "\n" not in error
    assert inputs["key.raw"]["status"] == "ok"
    assert [f["fingerprint"] for f in report["findings"]] == [rsa_key.fingerprint]
    assert code == 1


def test_a_core_past_the_expansion_limit_stops_with_a_clear_error(tmp_path: Path) -> None:
    report_path = crash_file(tmp_path / "big.crash", {"CoreDump": b"\0" * (8 << 20)})

    code, report = scan_json(report_path, "--max-expansion", "1MiB")

    assert code == 2
    (result,) = report["inputs"]
    assert result["status"] == "error"
    assert "expands past the limit" in result["error"]


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=2000) | st.text("QUJDRA= \n!", max_size=400).map(str.encode))
def test_random_field_data_gives_members_or_a_source_error(tmp_path: Path, body: bytes) -> None:
    path = tmp_path / "fuzz.crash"
    path.write_bytes(b"ProblemType: Crash\nCoreDump: base64\n " + body)
    blob = Blob(display_path="fuzz.crash", file=path, size=path.stat().st_size)
    error = unpack_error(blob, tmp_path)
    if error is not None:
        assert error.startswith(("fuzz.crash: ", "fuzz.crash!CoreDump: "))
        assert "\n" not in error


def unpack_error(blob: Blob, tmp_path: Path) -> str | None:
    """Unpack every member; the SourceError message if unpacking fails."""
    with Spool(1 << 20, tmp_path) as spool:
        try:
            for member in Apport().unpack(blob, spool):
                assert isinstance(member, Blob)
        except SourceError as error:
            return str(error)
    return None
