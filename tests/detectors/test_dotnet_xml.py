"""The .NET RSAKeyValue XML detector ("dotnet-xml"): parser, rules/xml.yar, the CLI.

No .NET runtime is installed here, so the XML is written by
samples/samplegen/windows_blobs.py in the form RSA.ToXmlString writes (element
order, padding of P..D), from keys made with `cryptography`; other element
orders, whitespace, wrapped base64 and an xmlns attribute cover hand-edited
and XML-DSig forms.  Both the ASCII and the UTF-16LE form (.NET strings in
memory) must be cut out exactly and proven as the key they hold.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import random
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from samples.samplegen.windows_blobs import rsa_key_value_elements, rsa_key_value_xml
from scanner.config import EngineName
from scanner.detectors import PARSERS
from scanner.detectors.base import Candidate, Window
from scanner.detectors.engines import Engine, build_engine
from scanner.errors import KeyProofError
from scanner.keys.base import Key, KeyKind, PayloadKind
from scanner.keys.fingerprint import fingerprint_public_key
from scanner.keys.prove import prove
from tests.clirun import dumpguard
from tests.detectors.test_cng_capi import offsets_across_chunk_edges
from tests.formats.test_elfcore import EM_X86_64, PF_R, PF_W, Segment, build_elf_core

REPO = Path(__file__).resolve().parents[2]
RULE_FILE = REPO / "rules" / "xml.yar"
ENGINE_NAMES = [EngineName.YARA_X, EngineName.YARA_PYTHON]
PARSER = PARSERS["dotnet-xml"]
WINDOW_START = 0x5_0000_0001
WIDTHS = {"xml": "ascii", "xml-utf-16le": "utf-16-le"}


@pytest.fixture(scope="module")
def keys() -> dict[int, rsa.RSAPrivateKey]:
    return {bits: rsa.generate_private_key(65537, bits) for bits in (1024, 2048, 4096)}


def expected_key(key: rsa.RSAPrivateKey, private: bool) -> Key:
    kind = KeyKind.PRIVATE if private else KeyKind.PUBLIC
    return Key(kind, "RSA", key.key_size, None, fingerprint_public_key(key.public_key()))


def to_xml(key: rsa.RSAPrivateKey, private: bool) -> str:
    return rsa_key_value_xml(rsa_key_value_elements(key, private=private))


def parse_at(data: bytes, position: int) -> list[Candidate]:
    return list(PARSER.parse(Window(data, WINDOW_START, WINDOW_START + len(data)), position))


def parse_text(text: str, encoding: str = "xml") -> list[Candidate]:
    return parse_at(text.encode(WIDTHS[encoding]) + os.urandom(64), 0)


def proven(text: str, encoding: str = "xml") -> list[Key]:
    found = []
    for candidate in parse_text(text, encoding):
        try:
            found.append(prove(candidate.payload))
        except KeyProofError:
            continue
    return found


# ---------------------------------------------------------------- the parser


@pytest.mark.parametrize("encoding", list(WIDTHS))
@pytest.mark.parametrize("private", [True, False], ids=["private", "public"])
def test_to_xml_string_output_is_cut_out_exactly_and_proven(
    keys: dict[int, rsa.RSAPrivateKey], encoding: str, private: bool
) -> None:
    for key in keys.values():
        stored = to_xml(key, private).encode(WIDTHS[encoding])
        before = 2 * 1001 + 1  # odd: the UTF-16 form starts at an odd offset
        data = os.urandom(before) + stored + os.urandom(257)
        [candidate] = parse_at(data, before)
        assert (candidate.detector, candidate.encoding) == ("dotnet-xml", encoding)
        assert (candidate.offset, candidate.length) == (WINDOW_START + before, len(stored))
        expected_kind = PayloadKind.PKCS1_PRIVATE if private else PayloadKind.PKCS1_PUBLIC
        assert candidate.payload.kind is expected_kind
        assert prove(candidate.payload) == expected_key(key, private)


def wrapped(value: str) -> str:
    """Base64 wrapped at 64 columns and indented, as pretty-printers and editors leave it."""
    return "\n      " + "\n      ".join(textwrap.wrap(value, 64)) + "\n    "


def test_any_element_order_whitespace_wrapped_base64_and_xmlns_are_read(
    keys: dict[int, rsa.RSAPrivateKey],
) -> None:
    key = keys[2048]
    elements = rsa_key_value_elements(key, private=True)
    random.Random(5).shuffle(elements)
    pretty = [(name, wrapped(value)) for name, value in elements]
    dsig = ' xmlns="http://www.w3.org/2000/09/xmldsig#"'
    forms = [
        rsa_key_value_xml(elements, separator="\r\n  "),
        rsa_key_value_xml(pretty, separator="\n    "),
        rsa_key_value_xml(elements, separator="\t", attributes=dsig),
    ]
    for text in forms:
        for encoding in WIDTHS:
            assert proven(text, encoding) == [expected_key(key, private=True)]


def test_p_and_q_alone_give_the_private_key_and_d_alone_gives_none(
    keys: dict[int, rsa.RSAPrivateKey],
) -> None:
    key = keys[1024]
    elements = dict(rsa_key_value_elements(key, private=True))
    minimal = [(name, elements[name]) for name in ("Modulus", "Exponent", "P", "Q")]
    assert proven(rsa_key_value_xml(minimal)) == [expected_key(key, private=True)]
    d_only = [(name, elements[name]) for name in ("Modulus", "Exponent", "D")]
    assert parse_text(rsa_key_value_xml(d_only)) == []


def replaced(elements: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    return [(n, value if n == name else v) for n, v in elements]


def changed_number(value: str) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[-1] ^= 0x02
    return base64.b64encode(bytes(raw)).decode()


def test_xml_that_is_not_one_consistent_key_gives_no_candidate(
    keys: dict[int, rsa.RSAPrivateKey],
) -> None:
    elements = rsa_key_value_elements(keys[1024], private=True)
    xml = rsa_key_value_xml(elements)
    broken = {
        "unknown element": rsa_key_value_xml([*elements, ("Seed", "AQAB")]),
        "repeated element": rsa_key_value_xml([*elements, ("Exponent", "AQAB")]),
        "text between elements": xml.replace("</Exponent><P>", "</Exponent>x<P>"),
        "not base64": rsa_key_value_xml(replaced(elements, "Q", "!!!!")),
        "bad base64 padding": rsa_key_value_xml(replaced(elements, "Exponent", "AQAB=")),
        "empty value": rsa_key_value_xml(replaced(elements, "DP", "")),
        "no Modulus": rsa_key_value_xml(elements[1:]),
        "P without Q": rsa_key_value_xml([e for e in elements if e[0] != "Q"]),
        "P changed": rsa_key_value_xml(replaced(elements, "P", changed_number(elements[2][1]))),
        "D changed": rsa_key_value_xml(replaced(elements, "D", changed_number(elements[7][1]))),
        "InverseQ changed": rsa_key_value_xml(
            replaced(elements, "InverseQ", changed_number(elements[6][1]))
        ),
        "Exponent even": rsa_key_value_xml(replaced(elements, "Exponent", "AQAA")),
        "no end tag": xml.replace("</RSAKeyValue>", "</RSAKeyValu>"),
        "other start tag": xml.replace("<RSAKeyValue>", "<RSAKeyValues>"),
        "nested element": xml.replace("<P>", "<P><X>").replace("</P>", "</X></P>"),
    }
    assert {
        name for name in broken for encoding in WIDTHS if parse_text(broken[name], encoding)
    } == set()


def test_utf16_start_with_an_ascii_end_tag_or_non_ascii_text_gives_no_candidate(
    keys: dict[int, rsa.RSAPrivateKey],
) -> None:
    xml = to_xml(keys[1024], private=False)
    wide = xml.encode("utf-16-le")
    end = "</RSAKeyValue>"
    assert parse_at(wide[: -2 * len(end)] + end.encode() + bytes(32), 0) == []
    accented = xml.replace("<RSAKeyValue>", '<RSAKeyValue a="é">')
    assert parse_text(accented, "xml-utf-16le") == []
    assert parse_at(accented.encode("utf-8"), 0) == []


def test_every_truncation_gives_no_candidate(keys: dict[int, rsa.RSAPrivateKey]) -> None:
    for encoding, codec in WIDTHS.items():
        stored = to_xml(keys[1024], private=True).encode(codec)
        for length in range(len(stored)):
            assert parse_at(stored[:length], 0) == [], (encoding, length)


def test_document_longer_than_the_bound_gives_no_candidate(
    keys: dict[int, rsa.RSAPrivateKey],
) -> None:
    elements = rsa_key_value_elements(keys[1024], private=True)
    padding = " " * (16 * 1024)
    assert proven(rsa_key_value_xml(elements, separator=" " * 512)) != []
    assert parse_text(rsa_key_value_xml(elements, separator=padding)) == []
    assert parse_text(rsa_key_value_xml(elements, separator=padding), "xml-utf-16le") == []


# ---------------------------------------------------------------- hypothesis

XMLISH = st.text(
    alphabet="<>/=+ \n\tABCDPQEMxyz0123456789RSAKeyValueModulusExponentInverseQ", max_size=400
)


@settings(max_examples=300, deadline=None)
@given(tail=XMLISH, encoding=st.sampled_from(list(WIDTHS)), before=st.binary(max_size=5))
def test_xml_like_text_after_the_start_tag_never_raises_or_gives_a_key(
    tail: str, encoding: str, before: bytes
) -> None:
    data = before + ("<RSAKeyValue>" + tail).encode(WIDTHS[encoding])
    for candidate in parse_at(data, len(before)):
        with pytest.raises(KeyProofError):
            prove(candidate.payload)


@settings(max_examples=200, deadline=None)
@given(tail=st.binary(max_size=600), wide=st.booleans())
def test_random_bytes_after_the_start_tag_never_raise_or_give_a_candidate(
    tail: bytes, wide: bool
) -> None:
    start = "<RSAKeyValue".encode("utf-16-le" if wide else "ascii")
    assert parse_at(start + tail, 0) == []


# ---------------------------------------------------------------- rules/xml.yar


@pytest.fixture(scope="module")
def engines() -> dict[EngineName, Engine]:
    return {name: build_engine(name, [RULE_FILE]) for name in ENGINE_NAMES}


@dataclass(frozen=True)
class Plant:
    stored: bytes
    offset: int
    encoding: str
    key: Key


def planted(keys: dict[int, rsa.RSAPrivateKey], seed: int) -> tuple[bytes, list[Plant]]:
    """Private and public XML of two keys, ASCII and UTF-16LE, at odd offsets in random bytes."""
    rng = random.Random(seed)
    data, plants = bytearray(), []
    for key in (keys[2048], keys[1024]):
        for private in (True, False):
            for encoding, codec in WIDTHS.items():
                data += rng.randbytes(2 * rng.randrange(100, 900) + 1)
                stored = to_xml(key, private).encode(codec)
                plants.append(Plant(stored, len(data), encoding, expected_key(key, private)))
                data += stored
    return bytes(data + rng.randbytes(99)), plants


def test_both_engines_anchor_ascii_and_utf16_forms_at_the_start_tag(
    keys: dict[int, rsa.RSAPrivateKey], engines: dict[EngineName, Engine]
) -> None:
    data, plants = planted(keys, seed=3)
    anchors = {
        name: {(match.parser, match.offset) for match in engine.scan(data).matches}
        for name, engine in engines.items()
    }
    assert anchors[EngineName.YARA_X] == anchors[EngineName.YARA_PYTHON]
    assert anchors[EngineName.YARA_X] == {("dotnet-xml", plant.offset) for plant in plants}


@pytest.mark.parametrize("engine_name", ENGINE_NAMES)
def test_no_match_on_zero_pages_random_bytes_or_other_xml(
    engines: dict[EngineName, Engine], engine_name: EngineName
) -> None:
    engine = engines[engine_name]
    assert engine.scan(bytes(4 * 1024 * 1024)).matches == ()
    assert engine.scan(os.urandom(4 * 1024 * 1024)).matches == ()
    other = b"<KeyValue><DSAKeyValue><P>AQAB</P></DSAKeyValue></KeyValue>" * 50
    assert engine.scan(other + other.decode().encode("utf-16-le")).matches == ()


@pytest.mark.parametrize("codec", ["ascii", "utf-16-le"])
def test_xml_across_any_chunk_edge_is_found_once(
    keys: dict[int, rsa.RSAPrivateKey], tmp_path: Path, codec: str
) -> None:
    stored = to_xml(keys[1024], private=True).encode(codec)
    found = offsets_across_chunk_edges(stored, tmp_path, ("dotnet-xml",))
    assert found == {offset: [offset] for offset in found}


# ---------------------------------------------------------------- the CLI, end to end

CORE_BASE = 0x7F66_0000_0000


def findings_as_rows(findings: list[dict[str, Any]]) -> set[tuple[str, str, str, str, int]]:
    return {
        (f["detector"], f["encoding"], f["kind"], f["fingerprint"], f["offset"]) for f in findings
    }


def rows_of(plants: list[Plant], base: int = 0) -> set[tuple[str, str, str, str, int]]:
    return {
        ("dotnet-xml", p.encoding, p.key.kind.value, str(p.key.fingerprint), base + p.offset)
        for p in plants
    }


def test_cli_finds_xml_in_raw_gzip_and_elf_core(
    tmp_path: Path, keys: dict[int, rsa.RSAPrivateKey]
) -> None:
    data, plants = planted(keys, seed=13)
    scanned = tmp_path / "dumps"
    scanned.mkdir()
    (scanned / "heap.bin").write_bytes(data)
    (scanned / "heap.bin.gz").write_bytes(gzip.compress(data))
    layout = build_elf_core(64, "<", EM_X86_64, [Segment(CORE_BASE, PF_R | PF_W, data)], b"")
    (scanned / "proc.core").write_bytes(layout.data)
    known = tmp_path / "known.pem"  # beside the scanned directory, not in it
    known.write_bytes(
        b"".join(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            for key in keys.values()
        )
    )
    run = dumpguard("scan", scanned, "--known-keys", known, "--format", "json")
    assert run.code == 1, run.stderr
    report = json.loads(run.stdout)
    assert all(item["status"] == "ok" for item in report["inputs"])
    by_name: dict[str, list[dict[str, Any]]] = {}
    for finding in report["findings"]:
        by_name.setdefault(Path(finding["path"]).name.split("!")[0], []).append(finding)
    assert set(by_name) == {"heap.bin", "heap.bin.gz", "proc.core"}
    assert findings_as_rows(by_name["heap.bin"]) == rows_of(plants)
    assert findings_as_rows(by_name["heap.bin.gz"]) == rows_of(plants)
    segment = layout.load_offsets[0]
    assert findings_as_rows(by_name["proc.core"]) == rows_of(plants, segment)
    for finding in report["findings"]:
        private = finding["kind"] == "private-key"
        assert finding["severity"] == ("critical" if private else "info")
