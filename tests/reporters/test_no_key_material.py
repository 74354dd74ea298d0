"""No output format, error message or report file ever holds key material.

Keys are planted in every encoding the scanner reads; each output format is
produced by the real CLI and searched for PEM body lines, base64 and hex of the
DER, and the private numbers in hex and decimal.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tests.clirun import dumpguard
from tests.keyfactory import SampleKey, json_escaped, make_keys


@pytest.fixture(scope="module")
def keys() -> list[SampleKey]:
    return make_keys()


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory, keys: list[SampleKey]) -> Path:
    directory = tmp_path_factory.mktemp("planted")
    parts: list[bytes] = []
    for key in keys:
        pem = key.pem()
        parts += [os.urandom(333), pem, bytes(77), key.der(), os.urandom(5)]
        parts += [pem.decode().encode("utf-16-le"), bytes(3), json_escaped(pem)]
        parts += [pem.replace(b"\n", b"\r\n"), key.der(serialization.PrivateFormat.PKCS8)]
    (directory / "planted.raw").write_bytes(b"".join(parts))
    known = directory / "known"
    known.mkdir()
    (known / "first.pem").write_bytes(keys[0].public_pem())
    return directory


@pytest.mark.parametrize("output_format", ["table", "json", "jsonl", "sarif"])
def test_outputs_hold_fingerprints_never_key_material(
    planted: Path, keys: list[SampleKey], output_format: str, tmp_path: Path
) -> None:
    report_file = tmp_path / "report.out"
    run = dumpguard(
        "scan",
        planted / "planted.raw",
        "--known-keys",
        planted / "known",
        "--format",
        output_format,
        "--output",
        report_file,
    )
    assert run.code == 1, run.stderr
    written = report_file.read_text()
    printed = dumpguard(
        "scan",
        planted / "planted.raw",
        "--known-keys",
        planted / "known",
        "--format",
        output_format,
    )
    for key in keys:
        assert key.fingerprint in written  # the table keeps whole fingerprints too
        for secret in key.secret_strings():
            for text in (written, run.stdout, run.stderr, printed.stdout, printed.stderr):
                assert secret not in text, f"{key.name} material in {output_format} output"


def test_error_messages_hold_no_key_material(planted: Path, keys: list[SampleKey]) -> None:
    # A cut file: the scan reports it; nothing of the key may appear in the error.
    cut = planted / "cut.raw"
    cut.write_bytes(keys[0].pem()[:900])
    run = dumpguard("scan", cut, "--format", "json")
    for secret in keys[0].secret_strings():
        assert secret not in run.stdout + run.stderr
