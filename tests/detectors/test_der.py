"""The DER parsers on keys and certificates written by openssl and cryptography.

Each parser must cut out exactly the structure at its anchor (absolute offset,
exact length, payload bytes), reject every truncation and every other
parser's structure, and never raise or read past `max_length` on garbage.
Assertions compare SHA-256 digests of payloads so that a failure never prints
key bytes.
"""

from __future__ import annotations

import hashlib
import os

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from scanner.detectors import PARSERS
from scanner.detectors.asn1 import (
    TAG_OID,
    TAG_SEQUENCE,
    DerError,
    DerReader,
    decode_oid,
    encode_integer,
    encode_oid,
    encode_tlv,
    read_element,
)
from scanner.detectors.base import Candidate, Parser, Window
from scanner.detectors.der_base import DerParser
from scanner.detectors.der_dsa import DerDsaParser
from scanner.detectors.der_pkcs1 import DerPkcs1Parser
from scanner.keys.base import PayloadKind
from tests.keys.der_samples import DerSample, der_integer, der_sample, der_samples, tlv

DER_PARSERS: dict[str, Parser] = {
    name: parser for name, parser in PARSERS.items() if isinstance(parser, DerParser)
}
WINDOW_START = 0x7F3A_0000_1001  # an odd absolute offset: candidates must add it
SAMPLES = der_samples()
SAMPLE_IDS = [sample.name for sample in SAMPLES]


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_at(parser: Parser, data: bytes, position: int) -> list[Candidate]:
    window = Window(data, WINDOW_START, WINDOW_START + len(data))
    return list(parser.parse(window, position))


def test_every_der_detector_is_registered() -> None:
    assert set(DER_PARSERS) == {
        "der-pkcs1",
        "der-pkcs8",
        "der-sec1",
        "der-dsa",
        "der-encrypted-pkcs8",
        "der-spki",
        "der-pkcs1-public",
        "der-x509",
    }
    assert {sample.parser for sample in SAMPLES} == set(DER_PARSERS)


# --- real structures ----------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLES, ids=SAMPLE_IDS)
@pytest.mark.parametrize("background", ["random", "zero"])
def test_planted_structure_is_cut_out_exactly(sample: DerSample, background: str) -> None:
    before, after = 4097, 333  # odd sizes: nothing is aligned
    filler = os.urandom if background == "random" else bytes
    data = filler(before) + sample.der + filler(after)
    [candidate] = parse_at(DER_PARSERS[sample.parser], data, before)
    assert candidate.detector == sample.parser
    assert candidate.encoding == "der"
    assert candidate.offset == WINDOW_START + before
    assert candidate.length == len(sample.der)
    assert candidate.payload.kind is sample.kind
    assert digest(candidate.payload.data) == digest(sample.der)


@pytest.mark.parametrize("sample", SAMPLES, ids=SAMPLE_IDS)
def test_only_its_own_parser_accepts_a_structure(sample: DerSample) -> None:
    """DSA and PKCS#1 share an anchor, SPKI and X.509 nest: each still takes only its own."""
    data = sample.der + os.urandom(64)
    accepting = {name for name, parser in DER_PARSERS.items() if parse_at(parser, data, 0)}
    assert accepting == {sample.parser}


@pytest.mark.parametrize("sample", SAMPLES, ids=SAMPLE_IDS)
def test_every_truncation_gives_no_candidate(sample: DerSample) -> None:
    parser = DER_PARSERS[sample.parser]
    for length in range(len(sample.der)):
        assert parse_at(parser, sample.der[:length], 0) == [], length


def _with_outer_length_rewritten(der: bytes, content_length: int) -> bytes:
    outer = read_element(der, 0, len(der))
    return encode_tlv(
        TAG_SEQUENCE, der[outer.content_offset : outer.content_offset + content_length]
    )


def _top_level_boundaries(der: bytes) -> set[int]:
    """Content lengths at which the outer SEQUENCE's fields end."""
    outer = read_element(der, 0, len(der))
    fields = DerReader.over(der, outer)
    ends = set()
    while not fields.at_end():
        ends.add(fields.any_element().end - outer.content_offset)
    return ends


@pytest.mark.parametrize("sample", SAMPLES, ids=SAMPLE_IDS)
def test_truncated_content_under_a_consistent_header_is_rejected(sample: DerSample) -> None:
    """The outer length is re-encoded to fit the cut, so only the inner checks can reject.

    A cut may only be accepted where the remaining fields are all optional: after
    ECPrivateKey's privateKey or parameters, or before a v2 key's publicKey.
    """
    parser = DER_PARSERS[sample.parser]
    outer = read_element(sample.der, 0, len(sample.der))
    accepted = {
        length
        for length in range(outer.length)
        if parse_at(parser, _with_outer_length_rewritten(sample.der, length), 0)
    }
    assert accepted <= _top_level_boundaries(sample.der)
    if sample.kind is not PayloadKind.SEC1_PRIVATE and not sample.name.endswith("-v2"):
        assert accepted == set()


def test_pkcs1_and_dsa_parsers_reject_each_other() -> None:
    rsa_key = der_sample("rsa2048-traditional").der
    dsa_key = der_sample("dsa2048-traditional").der
    # Both start 30 82 LL LL 02 01 00 02 82: one anchor, two rules, two parsers.
    assert rsa_key[4:9] == dsa_key[4:9] == bytes.fromhex("0201000282")
    assert parse_at(DerDsaParser(), rsa_key, 0) == []
    assert parse_at(DerPkcs1Parser(), dsa_key, 0) == []


def test_structure_longer_than_max_length_is_not_a_candidate() -> None:
    """A well-formed RSAPrivateKey shape whose integers make it exceed max_length."""
    parser = DerPkcs1Parser()
    big = (1 << (8 * 2100)) - 1
    fields = encode_integer(0) + b"".join(encode_integer(big) for _ in range(8))
    oversized = encode_tlv(TAG_SEQUENCE, fields)
    assert len(oversized) > parser.max_length
    assert parse_at(parser, oversized, 0) == []
    small = encode_tlv(TAG_SEQUENCE, encode_integer(0) + encode_integer(big >> 8000) * 8)
    assert len(parse_at(parser, small, 0)) == 1


def test_window_end_bounds_a_structure_at_the_window_edge() -> None:
    """A structure cut by the end of the window (the chunk driver's data) is not read on."""
    sample = der_sample("p256-traditional")
    data = os.urandom(100) + sample.der
    assert len(parse_at(DER_PARSERS["der-sec1"], data, 100)) == 1
    assert parse_at(DER_PARSERS["der-sec1"], data[:-1], 100) == []


def test_bare_32_byte_string_is_never_a_candidate() -> None:
    for _ in range(200):
        data = os.urandom(32)
        for parser in DER_PARSERS.values():
            assert parse_at(parser, data, 0) == []
            assert parse_at(parser, b"\x04\x20" + data, 0) == []


# --- garbage ------------------------------------------------------------------

# The first bytes each rule anchors on, so that random tails reach deep parser paths.
ANCHOR_PREFIXES = [
    bytes.fromhex("308202000201000282"),
    bytes.fromhex("30820200020100300d06092a864886f70d01010105000482"),
    bytes.fromhex("30770201010420"),
    bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107"),
    bytes.fromhex("3051020101300506032b65700422"),
    bytes.fromhex("30820100305706092a864886f70d01050d30"),
    bytes.fromhex("3082030030820200a00302010202"),
    bytes.fromhex("3082010a0282010100"),
]


@st.composite
def garbage_windows(draw: st.DrawFn) -> tuple[bytes, int]:
    prefix = draw(st.sampled_from([b"", *ANCHOR_PREFIXES]))
    body = draw(st.binary(max_size=600))
    lead = draw(st.binary(max_size=5))
    return lead + prefix + body, len(lead)


def _check_bounded(parser: Parser, data: bytes, position: int) -> None:
    """Never raises, stays within max_length, and ignores every byte past it."""
    candidates = parse_at(parser, data, position)
    limit = position + parser.max_length
    for candidate in candidates:
        assert candidate.length <= parser.max_length
        assert candidate.offset == WINDOW_START + position
    if len(data) > limit:
        changed = data[:limit] + bytes(b ^ 0xFF for b in data[limit:])
        assert [(c.offset, c.length) for c in parse_at(parser, changed, position)] == [
            (c.offset, c.length) for c in candidates
        ]


@given(garbage_windows())
@settings(max_examples=400, deadline=None)
def test_garbage_never_raises(window: tuple[bytes, int]) -> None:
    data, position = window
    for parser in DER_PARSERS.values():
        _check_bounded(parser, data, position)


@given(st.integers(min_value=0, max_value=len(SAMPLES) - 1), st.data())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutated_real_structures_never_raise(index: int, data: st.DataObject) -> None:
    der = bytearray(SAMPLES[index].der)
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        der[data.draw(st.integers(0, len(der) - 1))] ^= data.draw(st.integers(1, 255))
    for parser in DER_PARSERS.values():
        _check_bounded(parser, bytes(der), 0)


@pytest.mark.parametrize("sample", SAMPLES, ids=SAMPLE_IDS)
def test_parser_reads_at_most_max_length_bytes(sample: DerSample) -> None:
    """With max_length one byte short the structure is not a candidate even though the
    window holds all of it; with max_length just enough, bytes after it do not matter."""
    parser_class = type(DER_PARSERS[sample.parser])
    data = b"\x55" + sample.der + os.urandom(300)
    short = type("Short", (parser_class,), {"max_length": len(sample.der) - 1})()
    exact = type("Exact", (parser_class,), {"max_length": len(sample.der)})()
    assert parse_at(short, data, 1) == []
    [candidate] = parse_at(exact, data, 1)
    assert candidate.length == len(sample.der)
    _check_bounded(exact, data, 1)


# --- the DER reader -------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoded", "reason"),
    [
        ("3080", "indefinite length"),
        ("308105" + "00" * 5, "long form for a short length"),
        ("30820005" + "00" * 5, "padded long form"),
        ("3085" + "00" * 4, "five length bytes"),
        ("3005" + "00" * 4, "content cut off"),
        ("1f01" + "00", "multi-byte tag"),
        ("30", "length missing"),
    ],
)
def test_reader_rejects_non_der_headers(encoded: str, reason: str) -> None:
    data = bytes.fromhex(encoded)
    with pytest.raises(DerError):
        read_element(data, 0, len(data))


@pytest.mark.parametrize("encoded", ["0200", "02020001", "0202ff80"])
def test_reader_rejects_non_minimal_integers(encoded: str) -> None:
    data = bytes.fromhex(encoded)
    with pytest.raises(DerError):
        DerReader(data, 0, len(data)).integer()


@pytest.mark.parametrize("encoded", ["020100", "0201ff", "02020080"])
def test_positive_integer_rejects_zero_and_negatives(encoded: str) -> None:
    data = bytes.fromhex(encoded)
    reader = DerReader(data, 0, len(data))
    if encoded == "02020080":
        assert reader.positive_integer() == 0x80
    else:
        with pytest.raises(DerError):
            reader.positive_integer()


@given(st.integers(min_value=-(1 << 600), max_value=1 << 600))
@example(-128)
@example(-129)
@example(127)
@example(128)
@example(0)
def test_integer_encoding_round_trips_minimally(value: int) -> None:
    encoded = encode_integer(value)
    reader = DerReader(encoded, 0, len(encoded))
    assert reader.integer() == value
    reader.finish()
    if value >= 0:
        assert encoded == der_integer(value)


@pytest.mark.parametrize(
    ("content", "dotted"),
    [
        ("2a864886f70d010101", "1.2.840.113549.1.1.1"),
        ("2a8648ce3d030107", "1.2.840.10045.3.1.7"),
        ("2b8104000a", "1.3.132.0.10"),
        ("2b6570", "1.3.101.112"),
        ("608648016503040102", "2.16.840.1.101.3.4.1.2"),
    ],
)
def test_oid_decoding_and_encoding(content: str, dotted: str) -> None:
    assert decode_oid(bytes.fromhex(content)) == dotted
    assert encode_oid(dotted) == encode_tlv(TAG_OID, bytes.fromhex(content))


@given(
    st.integers(min_value=0, max_value=2),
    st.integers(min_value=0, max_value=39),
    st.lists(st.integers(min_value=0, max_value=1 << 28), max_size=5),
)
def test_oid_encoding_round_trips(first: int, second: int, rest: list[int]) -> None:
    dotted = ".".join(map(str, (first, second, *rest)))
    reader = DerReader(encode_oid(dotted), 0, 64)
    assert reader.oid() == dotted
    reader.finish()


@pytest.mark.parametrize("content", ["", "2a86", "2a80010101", "2a" + "81" * 40 + "01"])
def test_malformed_oids_are_rejected(content: str) -> None:
    with pytest.raises(DerError):
        decode_oid(bytes.fromhex(content))


def test_bit_string_with_unused_bits_is_rejected() -> None:
    data = tlv(0x03, b"\x01\xfe")
    with pytest.raises(DerError):
        DerReader(data, 0, len(data)).bit_string()
