"""PEM blocks in UTF-16BE (Java char[] in HPROF dumps, big-endian machines): pem.py and pem.yar.

The artifacts are test_pem.py's (openssl, ssh-keygen and cryptography wrote
them).  UTF-16 text of ASCII characters reads both ways when 0x00 bytes lie on
both sides of it; pem.py's docstring says which reading wins, and these tests
hold it to that: every planted block gives exactly one candidate over all the
anchors both engines report.  Payloads are compared by SHA-256 only.
"""

from __future__ import annotations

import base64
import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.detectors.base import Candidate, Window
from scanner.detectors.pem import PemParser
from tests.clirun import dumpguard
from tests.keyfactory import make_keys

from .test_pem import ARTIFACT_NAMES, PemArtifact, artifact, digest, rewrap
from .test_rules_text import compile_yara_python, compile_yara_x, scan_both

PARSER = PemParser()
MAX_LENGTH = PemParser.max_length
WINDOW_START = 0x7F3A_0000_2001
BEGIN_UTF16BE = "-----BEGIN ".encode("utf-16be")


def _utf16be(text: str) -> bytes:
    return text.encode("utf-16be")


def _crlf_indented(text: str) -> str:
    return "".join("  " + line for line in text.replace("\n", "\r\n").splitlines(keepends=True))


# variant -> (text form, expected encoding).  Each form ends with the END line's
# last "-": what follows it decides the reading (see test_reading_*).
VARIANTS: dict[str, tuple[Callable[[str], str], str]] = {
    "lf": (lambda t: t, "utf-16be"),
    "crlf-indented": (_crlf_indented, "utf-16be"),
    "one-line": (lambda t: rewrap(t, None), "utf-16be"),
    "json": (lambda t: json.dumps(t)[1:-1], "utf-16be-escaped"),
}


@dataclass(frozen=True)
class Planted:
    stored: bytes = field(repr=False)
    encoding: str


def plant(item: PemArtifact, variant: str) -> Planted:
    """The block in UTF-16BE, from the first "-" of BEGIN to the last "-" of END."""
    form, encoding = VARIANTS[variant]
    text = form(item.text)
    end_line = f"-----END {item.label}-----"
    text = text[text.index("-----BEGIN ") : text.rindex(end_line) + len(end_line)]
    return Planted(_utf16be(text), encoding)


def parse_at(data: bytes, position: int) -> list[Candidate]:
    return list(PARSER.parse(Window(data, WINDOW_START, WINDOW_START + len(data)), position))


def parse_all_anchors(engines: tuple[Any, Any], data: bytes) -> list[Candidate]:
    """What the chunk driver does for one window: every anchor of pem.yar to the parser."""
    window = Window(data, 0, len(data))
    return [c for hit in sorted(scan_both(engines, data)) for c in PARSER.parse(window, hit.offset)]


@pytest.fixture(scope="module")
def engines() -> tuple[Any, Any]:
    return compile_yara_python(), compile_yara_x()


# --- every artifact in every form -------------------------------------------------


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", ARTIFACT_NAMES)
def test_block_followed_by_a_non_zero_byte_is_utf16be(name: str, variant: str) -> None:
    item = artifact(name)
    planted = plant(item, variant)
    before = random.Random(name).randbytes(1001)
    for after in (b"\x23\x00\x00\x00\x01", b"\xff" + os.urandom(64), b""):
        data = before + planted.stored + after
        [candidate] = parse_at(data, len(before))
        assert candidate.detector == "pem"
        assert candidate.encoding == planted.encoding
        assert candidate.offset == WINDOW_START + len(before)
        assert candidate.length == len(planted.stored)
        assert candidate.payload.kind is item.kind
        assert candidate.payload.algorithm_hint == item.algorithm_hint
        assert digest(candidate.payload.data) == digest(item.expected)


def test_rule_anchors_on_the_zero_byte_before_the_first_dash(engines: tuple[Any, Any]) -> None:
    planted = plant(artifact("p256-pkcs8"), "lf")
    data = os.urandom(777) + planted.stored + b"\x01" + os.urandom(99)
    hits = scan_both(engines, data)
    # the `wide` string fires one byte on too: there the text reads as UTF-16LE up
    # to its last byte, which the 0x01 after the block breaks
    assert {(hit.rule, hit.offset) for hit in hits} == {
        ("dumpguard_pem_begin", 777),
        ("dumpguard_pem_begin", 778),
    }
    [candidate] = parse_all_anchors(engines, data)
    assert (candidate.offset, candidate.encoding) == (777, "utf-16be")


# --- one text, two readings ----------------------------------------------------------


@pytest.mark.parametrize("name", ["rsa2048-pkcs8", "p384-traditional", "ssh-ed25519"])
def test_reading_utf16be_followed_by_more_text_is_left_to_utf16le(
    engines: tuple[Any, Any], name: str
) -> None:
    """A char[] holding the file with its final newline: the bytes are also UTF-16LE
    one byte on, and that reading (whose last byte is the newline's 0x00) is kept."""
    item = artifact(name)
    planted = plant(item, "lf")
    data = os.urandom(501) + planted.stored + _utf16be("\n") + b"\x23" + os.urandom(40)
    [candidate] = parse_all_anchors(engines, data)
    assert candidate.encoding == "utf-16le"
    assert (candidate.offset, candidate.length) == (502, len(planted.stored))
    assert digest(candidate.payload.data) == digest(item.expected)


@pytest.mark.parametrize("before", [b"\x00", b'"\x00', b"x\x00\n\x00"])
def test_reading_utf16le_preceded_by_a_zero_byte_stays_utf16le(
    engines: tuple[Any, Any], before: bytes
) -> None:
    item = artifact("p256-pkcs8")
    stored = item.text.encode("utf-16le")
    data = os.urandom(300) + before + stored + os.urandom(40)
    [candidate] = parse_all_anchors(engines, data)
    assert candidate.encoding == "utf-16le"
    assert candidate.offset == 300 + len(before)


# --- what must give nothing -------------------------------------------------------------

RODATA = [
    "-----BEGIN RSA PRIVATE KEY-----\n",
    "-----BEGIN %s-----\n-----END %s-----\n",
    "-----BEGIN OPENSSH PRIVATE KEY-----\n-----END OPENSSH PRIVATE KEY-----",
]


@pytest.mark.parametrize("text", RODATA)
def test_header_strings_give_nothing(engines: tuple[Any, Any], text: str) -> None:
    data = bytes(17) + _utf16be(text) + b"\x01\x02" + bytes(64)
    assert parse_all_anchors(engines, data) == []


@pytest.mark.parametrize("name", ["rsa2048-pkcs8", "p384-legacy-des3", "ssh-ed25519"])
def test_block_cut_at_any_line_gives_nothing(name: str) -> None:
    lines = artifact(name).text.splitlines(keepends=True)
    for kept in range(1, len(lines)):
        cut = "".join(lines[:kept])
        for text in (cut, cut + lines[-1].rstrip("\n")[:-1]):
            data = _utf16be(text) + b"\x01" + bytes(300)
            assert parse_at(data, 0) == [], kept


def test_wide_character_inside_gives_nothing() -> None:
    text = plant(artifact("rsa2048-pkcs8"), "lf").stored.decode("utf-16be")
    broken = text[:200] + "\u0141" + text[201:]
    assert parse_at(_utf16be(broken) + b"\x01", 0) == []


# --- max_length ---------------------------------------------------------------------------


@pytest.mark.parametrize("overshoot", [-2, 0, 2])
def test_block_must_end_one_byte_before_max_length(overshoot: int) -> None:
    """A UTF-16BE block leaves room in max_length for the byte after it (pem.py)."""
    begin_line, end_line = "-----BEGIN PRIVATE KEY-----\n", "-----END PRIVATE KEY-----"
    der_size = 24_000  # base64 of this in UTF-16BE is about 64,000 bytes
    der = b"\x30\x82" + (der_size - 4).to_bytes(2, "big") + os.urandom(der_size - 4)
    body = base64.b64encode(der).decode() + "\n"
    characters = (MAX_LENGTH - 2 + overshoot) // 2
    text = begin_line + body + " " * (characters - len(begin_line + body + end_line)) + end_line
    stored = _utf16be(text)
    assert len(stored) == MAX_LENGTH - 2 + overshoot
    data = b"z" + stored + b"\x01" + os.urandom(4096)
    assert len(parse_at(data, 1)) == (1 if overshoot <= 0 else 0)


@settings(max_examples=200, deadline=None)
@given(
    label=st.sampled_from([b"PRIVATE KEY", b"EC PRIVATE KEY", b"OPENSSH PRIVATE KEY", b""]),
    separator=st.sampled_from([b"\n", b"\r\n", b"\\n", b""]),
    tail=st.binary(max_size=600),
    prefix=st.binary(max_size=9),
)
def test_random_bytes_after_begin_never_raise(
    label: bytes, separator: bytes, tail: bytes, prefix: bytes
) -> None:
    stored = _utf16be((b"-----BEGIN " + label + b"-----" + separator).decode()) + tail
    for candidate in parse_at(prefix + stored, len(prefix)):
        assert candidate.offset == WINDOW_START + len(prefix)
        assert 0 < candidate.length < MAX_LENGTH


# --- end to end ------------------------------------------------------------------------------


def test_cli_reports_a_utf16be_pem_once_with_its_fingerprint(tmp_path: Path) -> None:
    key = make_keys()[1]
    text = key.pem().decode().rstrip("\n")
    stored = b"\x23" * 33 + _utf16be(text) + b"\x21" + os.urandom(2000)
    (tmp_path / "char-array.bin").write_bytes(stored)
    (tmp_path / "with-newline.bin").write_bytes(stored.replace(b"\x21", _utf16be("\n"), 1))
    run = dumpguard("scan", tmp_path, "--format", "json")
    assert run.code == 1, run.stderr
    found = {
        (Path(f["path"]).name, f["detector"], f["encoding"], f["offset"], f["fingerprint"])
        for f in json.loads(run.stdout)["findings"]
    }
    assert found == {
        ("char-array.bin", "pem", "utf-16be", 33, key.fingerprint),
        ("with-newline.bin", "pem", "utf-16le", 34, key.fingerprint),
    }
