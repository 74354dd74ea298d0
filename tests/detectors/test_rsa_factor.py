"""Prime factors of known RSA keys stored as raw numbers: the real CLI, real keys, real files.

Factors of RSA-1024/2048/3072/4096 keys made by `cryptography` are planted in
raw files on random, zero, pointer and text backgrounds, in every layout and
alignment the search covers (big-endian at 8-byte alignment and after an ASN.1
INTEGER header, little-endian at 4 and 8, JVM words at 4 and 8), beside numbers
it must not report (misaligned copies, p + 2, a random odd number).  ELF cores
written by tests/formats' writer check alignment by address and that a number
split between regions not contiguous in memory is not found.  The real chunk
driver checks the overlap contract with a factor at every offset around a
chunk edge.
"""

from __future__ import annotations

import json
import os
import random
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.config import EngineName
from scanner.detectors import PARSERS
from scanner.detectors.base import Window
from scanner.detectors.components.base import AddressSpace, KnownPublicKey, SearchConfig
from scanner.detectors.components.divisors import DivisorTest
from scanner.detectors.components.registry import build_searches
from scanner.detectors.components.rsa_factor import RsaFactorSearch, factor_range, top_values
from scanner.detectors.engines import build_engine
from scanner.detectors.engines.base import rule_files_in
from scanner.detectors.scan import ChunkScanner
from scanner.formats.base import Region
from scanner.keys.base import KnownKey
from scanner.keys.fingerprint import fingerprint_public_key
from scanner.keys.known import load_known_keys
from scanner.keys.prove import prove
from scanner.pipeline import BUILTIN_RULES
from tests.clirun import dumpguard
from tests.formats.test_elfcore import EM_X86_64, NT_PRPSINFO, PF_R, PF_W, Segment, build_elf_core
from tests.formats.test_elfcore import note as elf_note
from tests.formats.test_elfcore import prpsinfo as elf_prpsinfo

SIZES = (1024, 2048, 3072, 4096)
BE, LE, WORDS = "be", "le", "be32-words-le"
BACKGROUND_BYTES = 160 * 1024


@dataclass(frozen=True)
class RsaKey:
    key: rsa.RSAPrivateKey = field(repr=False)

    @property
    def p(self) -> int:
        return self.key.private_numbers().p

    @property
    def q(self) -> int:
        return self.key.private_numbers().q

    @property
    def bits(self) -> int:
        return self.key.key_size

    @property
    def factor_bytes(self) -> int:
        return self.bits // 16

    @property
    def fingerprint(self) -> str:
        return fingerprint_public_key(self.key.public_key())

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@pytest.fixture(scope="module")
def keys() -> list[RsaKey]:
    """RSA-1024, 2048, 3072 and 4096, in that order."""
    return [RsaKey(rsa.generate_private_key(65537, bits)) for bits in SIZES]


@pytest.fixture(scope="module")
def other_key() -> RsaKey:
    return RsaKey(rsa.generate_private_key(65537, 2048))


def stored(number: int, encoding: str, length: int) -> bytes:
    big = number.to_bytes(length, "big")
    if encoding == BE:
        return big
    if encoding == LE:
        return big[::-1]
    return b"".join(big[i : i + 4][::-1] for i in range(0, length, 4))


def integer_header(length: int, number: int) -> bytes:
    """X.690 INTEGER tag and length, with the zero byte when the top bit is set."""
    top_bit = number >> (8 * length - 1)
    content = length + top_bit
    size = content.to_bytes((content.bit_length() + 7) // 8, "big")
    length_field = size if content < 0x80 else bytes([0x80 | len(size)]) + size
    return b"\x02" + length_field + (b"\x00" if top_bit else b"")


def write_known(tmp_path: Path, keys: list[RsaKey]) -> Path:
    path = tmp_path / "pub.pem"
    path.write_bytes(b"".join(key.public_pem() for key in keys))
    return path


# ---------------------------------------------------------------- backgrounds


def pointer_background(size: int, rng: random.Random) -> bytes:
    """64-bit words as a heap holds them: heap and library pointers, small integers, zeros."""
    words = []
    for _ in range(size // 8):
        kind = rng.random()
        if kind < 0.35:
            words.append(0x5555_0000_0000 + rng.randrange(1 << 32) * 16)
        elif kind < 0.6:
            words.append(0x7F00_0000_0000 + rng.randrange(1 << 36) * 8)
        elif kind < 0.85:
            words.append(rng.randrange(1024))
        else:
            words.append(0)
    return struct.pack(f"<{len(words)}Q", *words)


def text_background(size: int, rng: random.Random) -> bytes:
    lines = []
    while sum(len(line) + 1 for line in lines) < size:
        lines.append(
            f"2024-05-{rng.randint(1, 28):02d}T12:{rng.randint(0, 59):02d}:00Z INFO "
            f"[worker-{rng.randint(0, 15)}] GET /api/v1/items/{rng.randint(1, 99999)} 200"
        )
    return "\n".join(lines).encode()[:size]


BACKGROUNDS = {
    "random": lambda size, rng: os.urandom(size),
    "zero": lambda size, rng: bytes(size),
    "pointer": pointer_background,
    "text": text_background,
}


# ---------------------------------------------------------------- planting


@dataclass(frozen=True)
class Plant:
    """A number written at an offset; `key` is set when it must give a finding."""

    offset: int
    encoding: str
    key: RsaKey | None
    length: int


class Image:
    """A buffer that numbers are planted into at increasing, well-separated offsets."""

    def __init__(self, background: bytes) -> None:
        self.data = bytearray(background)
        self.position = 256
        self.plants: list[Plant] = []

    def put(self, blob: bytes, residue: int, modulus: int = 8) -> int:
        self.position += (residue - self.position) % modulus
        offset = self.position
        self.data[offset : offset + len(blob)] = blob
        self.position += len(blob) + 40
        return offset

    def factor(self, key: RsaKey, number: int, encoding: str, residue: int, modulus: int) -> None:
        offset = self.put(stored(number, encoding, key.factor_bytes), residue, modulus)
        self.plants.append(Plant(offset, encoding, key, key.factor_bytes))

    def remnant(self, key: RsaKey, number: int, residue: int) -> None:
        """A DER INTEGER holding the factor; the finding is at the number, after the header."""
        header = integer_header(key.factor_bytes, number)
        blob = header + number.to_bytes(key.factor_bytes, "big")
        offset = self.put(blob, (residue - len(header)) % 8) + len(header)
        self.plants.append(Plant(offset, BE, key, key.factor_bytes))

    def decoy(self, blob: bytes, residue: int, modulus: int = 8) -> None:
        offset = self.put(blob, residue, modulus)
        self.plants.append(Plant(offset, "decoy", None, len(blob)))

    def expected(self) -> set[tuple[int, str, str]]:
        return {(p.offset, p.encoding, p.key.fingerprint) for p in self.plants if p.key}


def plant_every_layout(image: Image, key: RsaKey) -> None:
    """Each layout and alignment the search covers, with p and q alternating."""
    p, q = key.p, key.q
    image.factor(key, p, BE, 0, 8)
    image.factor(key, q, LE, 4, 8)
    image.factor(key, p, LE, 0, 8)
    image.factor(key, q, WORDS, 4, 8)
    image.factor(key, p, WORDS, 0, 8)
    image.remnant(key, q, 3)  # an ASN.1 remnant at an odd offset
    image.remnant(key, p, 0)  # ... and at an aligned one: one finding, not two


def plant_decoys(image: Image, key: RsaKey, rng: random.Random) -> None:
    """Numbers that must give nothing: misaligned copies, p + 2, a random odd number."""
    length = key.factor_bytes
    image.decoy(stored(key.p, LE, length), 2, 4)
    image.decoy(stored(key.q, WORDS, length), 2, 4)
    image.decoy(stored(key.p, BE, length), 4, 8)  # 4 mod 8, no INTEGER header before it
    image.decoy(stored(key.q, BE, length), 5, 8)
    image.decoy(stored(key.p + 2, BE, length), 0, 8)
    image.decoy(stored(key.q - 2, LE, length), 0, 8)
    odd = rng.getrandbits(8 * length) | 1 << (8 * length - 1) | 1
    image.decoy(stored(odd, BE, length), 0, 8)


def cli_findings(path: Path, known: Path | None) -> list[dict[str, Any]]:
    args = ["scan", path, "--format", "json"] + (["--known-keys", known] if known else [])
    run = dumpguard(*args)
    assert run.code in (0, 1), run.stderr
    report = json.loads(run.stdout)
    assert [item["status"] for item in report["inputs"]] == ["ok"]
    findings: list[dict[str, Any]] = report["findings"]
    return findings


@pytest.mark.parametrize("background", list(BACKGROUNDS))
def test_factors_in_every_layout_are_critical_findings_and_decoys_are_not(
    tmp_path: Path, keys: list[RsaKey], background: str
) -> None:
    rng = random.Random(background)
    image = Image(BACKGROUNDS[background](BACKGROUND_BYTES, rng))
    for key in keys:
        plant_every_layout(image, key)
        plant_decoys(image, key, rng)
    assert image.position < BACKGROUND_BYTES
    path = tmp_path / f"{background}.raw"
    path.write_bytes(image.data)
    known = write_known(tmp_path, keys)

    findings = cli_findings(path, known)
    assert {(f["offset"], f["encoding"], f["fingerprint"]) for f in findings} == image.expected()
    ids = {key.fingerprint: f"{known}#{index + 1}" for index, key in enumerate(keys)}
    for finding in findings:
        assert finding["detector"] == "rsa-factor"
        assert finding["severity"] == "critical"
        assert finding["kind"] == "private-key"
        assert finding["algorithm"] == "RSA"
        assert finding["known_key"]["id"] == ids[finding["fingerprint"]]
        assert finding["bits"] in SIZES
        assert finding["length"] == finding["bits"] // 16


def test_without_known_keys_a_factor_is_nothing(tmp_path: Path, keys: list[RsaKey]) -> None:
    image = Image(os.urandom(BACKGROUND_BYTES))
    for key in keys:
        plant_every_layout(image, key)
    path = tmp_path / "image.raw"
    path.write_bytes(image.data)
    assert cli_findings(path, None) == []


def test_factor_of_a_key_that_is_not_known_is_not_reported(
    tmp_path: Path, keys: list[RsaKey], other_key: RsaKey
) -> None:
    image = Image(os.urandom(64 * 1024))
    plant_every_layout(image, other_key)
    image.factor(keys[1], keys[1].p, LE, 0, 8)
    path = tmp_path / "image.raw"
    path.write_bytes(image.data)
    findings = cli_findings(path, write_known(tmp_path, keys))
    assert [(f["offset"], f["fingerprint"]) for f in findings] == [
        (image.plants[-1].offset, keys[1].fingerprint)
    ]


def test_der_key_with_its_head_overwritten_gives_both_factors_as_remnants(
    tmp_path: Path, keys: list[RsaKey]
) -> None:
    """A freed PKCS#1 key whose first 300 bytes (n, e, d) were reused: p and q remain."""
    key = keys[1]
    der = bytearray(
        key.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    der[:300] = os.urandom(300)
    data = bytearray(os.urandom(32 * 1024))
    start = 4097  # odd: the numbers are not aligned
    data[start : start + len(der)] = der
    path = tmp_path / "remnant.raw"
    path.write_bytes(data)
    findings = cli_findings(path, write_known(tmp_path, keys))
    expected = {
        start + der.find(key.p.to_bytes(128, "big")),
        start + der.find(key.q.to_bytes(128, "big")),
    }
    assert {f["offset"] for f in findings} == expected
    assert {(f["detector"], f["encoding"], f["severity"]) for f in findings} == {
        ("rsa-factor", "be", "critical")
    }


def test_intact_der_key_is_one_finding_not_three(tmp_path: Path, keys: list[RsaKey]) -> None:
    """The factors inside a whole PKCS#1 key belong to its finding (one key, one place)."""
    der = keys[0].key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    path = tmp_path / "der.raw"
    path.write_bytes(os.urandom(1001) + der + os.urandom(1000))
    findings = cli_findings(path, write_known(tmp_path, keys))
    assert [(f["offset"], f["detector"]) for f in findings] == [(1001, "der-pkcs1")]


# ---------------------------------------------------------------- in-process search


def known_public(keys: list[RsaKey]) -> list[KnownPublicKey]:
    result = []
    for index, key in enumerate(keys):
        public_key = key.key.public_key()
        spki = public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        known = KnownKey(f"k{index}", "test", key.fingerprint, "RSA", key.bits)
        result.append(KnownPublicKey(known, public_key, spki))
    return result


def search_for(keys: list[RsaKey]) -> RsaFactorSearch:
    search = RsaFactorSearch.for_keys(known_public(keys), SearchConfig())
    assert search is not None
    return search


def found(search: RsaFactorSearch, data: bytes, start: int = 0) -> list[tuple[int, str]]:
    window = Window(data, start, start + len(data))
    return sorted((c.offset, c.encoding) for c in search.search(window, AddressSpace(-1, [])))


@pytest.mark.parametrize(
    ("encoding", "residues"),
    [(BE, range(1, 8)), (LE, (1, 2, 3, 5, 6, 7)), (WORDS, (1, 2, 3, 5, 6, 7))],
)
def test_numbers_off_their_alignment_are_not_reported(
    keys: list[RsaKey], encoding: str, residues: range
) -> None:
    """Little-endian and words at 2 mod 4, big-endian at 4 mod 8 without a header: nothing.

    By design: limb arrays and int[] live at 4-byte-aligned addresses, a raw
    big-endian copy at 8 (malloc); testing every byte offset would multiply the
    work by four to eight.
    """
    search = search_for(keys)
    for key in keys:
        for residue in residues:
            data = bytearray(os.urandom(2048))
            data[64 + residue : 64 + residue + key.factor_bytes] = stored(
                key.p, encoding, key.factor_bytes
            )
            assert found(search, bytes(data)) == [], (key.bits, residue)


def test_candidate_carries_the_factor_big_endian_and_proves(keys: list[RsaKey]) -> None:
    search = search_for(keys)
    key = keys[2]
    data = bytearray(os.urandom(4096))
    data[1024 : 1024 + key.factor_bytes] = stored(key.q, WORDS, key.factor_bytes)
    window = Window(bytes(data), 0, len(data))
    (candidate,) = search.search(window, AddressSpace(-1, []))
    assert (candidate.detector, candidate.offset, candidate.length) == ("rsa-factor", 1024, 192)
    assert candidate.payload.data == key.q.to_bytes(192, "big")
    assert prove(candidate.payload).fingerprint == key.fingerprint


def test_remnant_at_an_aligned_offset_is_one_candidate(keys: list[RsaKey]) -> None:
    """The aligned pass and the header pass both see it; it is reported once."""
    key = keys[1]
    data = bytearray(os.urandom(2048))
    header = integer_header(128, key.p)
    data[512 - len(header) : 512] = header
    data[512:640] = stored(key.p, BE, 128)
    window = Window(bytes(data), 0, len(data))
    candidates = list(search_for(keys).search(window, AddressSpace(-1, [])))
    assert [(c.offset, c.encoding) for c in candidates] == [(512, BE)]


def test_search_applies_only_to_usable_rsa_keys(keys: list[RsaKey]) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    spki = ec_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    ec_known = KnownPublicKey(KnownKey("ec", "t", "fp", "EC", 256), ec_key, spki)
    assert RsaFactorSearch.for_keys([ec_known], SearchConfig()) is None
    search = search_for(keys)
    assert [group.length for group in search.groups] == [64, 128, 192, 256]
    assert search.max_length == 1024 + 5  # an RSA-16384 factor and its INTEGER header


def test_odd_sized_moduli_give_factors_of_both_lengths() -> None:
    """RSA-2047 (OpenSSL: 1024- and 1023-bit primes) and RSA-2050 (two 1025-bit primes)."""
    odd_keys = [RsaKey(rsa.generate_private_key(65537, bits)) for bits in (2047, 2050)]
    search = search_for(odd_keys)
    data = bytearray(os.urandom(8192))
    expected = []
    position = 512
    for key in odd_keys:
        for number in (key.p, key.q):
            length = -(-number.bit_length() // 8)
            for encoding, residue in ((BE, 0), (LE, 4), (WORDS, 4)):
                position += (residue - position) % 8
                blob = stored(number, encoding, length)
                if encoding == WORDS:
                    blob = stored(number, encoding, -(-length // 4) * 4)
                data[position : position + len(blob)] = blob
                expected.append((position, encoding))
                position += len(blob) + 24
    assert found(search, bytes(data)) == sorted(expected)


@pytest.mark.parametrize("accumulates", [False, True])
def test_exact_test_finds_every_factor_among_random_numbers_with_either_strategy(
    keys: list[RsaKey], other_key: RsaKey, accumulates: bool
) -> None:
    """Both strategies, including a batch that holds both primes of a modulus (Z = 0 mod n)."""
    moduli = [keys[1].p * keys[1].q, other_key.p * other_key.q]
    tops = [top_values(r, 128) for r in (factor_range(n, 128) for n in moduli) if r]
    test = DivisorTest(moduli, tops, accumulates=accumulates)
    rng = np.random.default_rng(5)
    numbers = rng.integers(0, 256, (600, 128), dtype=np.uint8)
    numbers[:, 0] |= 0x80
    planted = {17: (keys[1].p, 0), 301: (keys[1].q, 0), 599: (other_key.q, 1)}
    for row, (factor, _) in planted.items():
        numbers[row] = np.frombuffer(factor.to_bytes(128, "big"), dtype=np.uint8)
    expected = sorted((row, index) for row, (_, index) in planted.items())
    assert sorted(test.matches(numbers)) == expected
    assert test.matches(numbers[:10]) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(min_size=0, max_size=3000), start=st.integers(0, 7))
def test_arbitrary_bytes_never_raise_and_give_no_candidate(
    keys: list[RsaKey], data: bytes, start: int
) -> None:
    assert found(search_for(keys[:2]), data, start) == []


# ---------------------------------------------------------------- regions of ELF cores

BASE = 0x7F12_3456_0000


def core_with(segments: list[Segment]) -> bytes:
    """An ELF64 core whose segment bytes start at a file offset of 4 mod 8.

    The PRPSINFO note (156 bytes) after the 4 program headers puts the first
    segment at 64 + 4*56 + 156 = 444: so file alignment and address alignment differ.
    """
    notes = elf_note(b"CORE", NT_PRPSINFO, elf_prpsinfo(64, "<", False, 4242, b"demo"), "<")
    return build_elf_core(64, "<", EM_X86_64, segments, notes).data


def segment_bytes(size: int) -> bytearray:
    return bytearray(os.urandom(size))


def test_alignment_is_by_address_in_a_core(tmp_path: Path, keys: list[RsaKey]) -> None:
    key = keys[1]
    first = segment_bytes(0x2000)
    aligned_in_memory = 0x100  # address BASE + 0x100, file offset 444 + 0x100 (4 mod 8)
    first[aligned_in_memory : aligned_in_memory + 128] = stored(key.p, BE, 128)
    aligned_in_file = 0x404  # address 4 mod 8, file offset 0 mod 8
    first[aligned_in_file : aligned_in_file + 128] = stored(key.q, BE, 128)
    layout = core_with([Segment(BASE, PF_R | PF_W, bytes(first))])
    path = tmp_path / "aligned.core"
    path.write_bytes(layout)
    findings = cli_findings(path, write_known(tmp_path, keys))
    segment_offset = len(layout) - 0x2000
    assert segment_offset % 8 == 4
    assert [(f["offset"], f["address"], f["encoding"]) for f in findings] == [
        (segment_offset + aligned_in_memory, BASE + aligned_in_memory, BE)
    ]


@pytest.mark.parametrize("contiguous", [True, False])
def test_factor_split_between_regions_is_found_only_when_they_are_contiguous_in_memory(
    tmp_path: Path, keys: list[RsaKey], contiguous: bool
) -> None:
    key = keys[1]
    first, second = segment_bytes(0x1000), segment_bytes(0x1000)
    number = stored(key.p, LE, 128)
    first[0x1000 - 48 :] = number[:48]  # address BASE + 0xFD0: 8-byte aligned
    second[: 128 - 48] = number[48:]
    second_address = BASE + 0x1000 if contiguous else BASE + 0x5000
    segments = [
        Segment(BASE, PF_R | PF_W, bytes(first)),
        Segment(second_address, PF_R, bytes(second)),
    ]
    data = core_with(segments)
    path = tmp_path / "split.core"
    path.write_bytes(data)
    findings = cli_findings(path, write_known(tmp_path, keys))
    expected = [(BASE + 0x1000 - 48, LE, key.fingerprint)] if contiguous else []
    assert [(f["address"], f["encoding"], f["fingerprint"]) for f in findings] == expected


# ---------------------------------------------------------------- chunk edges

CHUNK = 4096
EDGE = 3 * CHUNK


@pytest.fixture(scope="module")
def edge_scanner(tmp_path_factory: pytest.TempPathFactory, keys: list[RsaKey]) -> ChunkScanner:
    known = write_known(tmp_path_factory.mktemp("known"), keys[:2])
    engine = build_engine(EngineName.YARA_X, rule_files_in([BUILTIN_RULES]))
    searches = build_searches(load_known_keys([known]), SearchConfig())
    return ChunkScanner(engine, PARSERS, chunk_size=CHUNK, jobs=1, searches=searches)


def edge_placements(length: int) -> Iterator[tuple[int, str, bool]]:
    """(offset, encoding, with header) for every position around EDGE a number can take."""
    for offset in range(EDGE - length - 16, EDGE + 17):
        if offset % 8 == 0:
            yield offset, BE, False
        if offset % 4 == 0:
            yield offset, LE, False
            yield offset, WORDS, False
        yield offset, BE, True


def factor_offsets(scanner: ChunkScanner, path: Path, regions: list[Region]) -> list[int]:
    return sorted(c.offset for c in scanner.scan_file(path, regions) if c.detector == "rsa-factor")


def test_factor_around_a_chunk_edge_is_found_exactly_once(
    tmp_path: Path, edge_scanner: ChunkScanner, keys: list[RsaKey]
) -> None:
    key = keys[0]
    length = key.factor_bytes
    assert edge_scanner.overlap >= 1024 + 5
    path = tmp_path / "edge.raw"
    background = os.urandom(6 * CHUNK)
    for offset, encoding, with_header in edge_placements(length):
        data = bytearray(background)
        blob = stored(key.p, encoding, length)
        if with_header:
            header = integer_header(length, key.p)
            data[offset - len(header) : offset] = header
        data[offset : offset + length] = blob
        path.write_bytes(data)
        got = factor_offsets(edge_scanner, path, [Region(0, len(data))])
        assert got == [offset], (offset, encoding, with_header)


def test_chunks_scanned_in_worker_processes_report_a_factor_once(
    tmp_path: Path, keys: list[RsaKey]
) -> None:
    known = write_known(tmp_path, keys[:2])
    engine = build_engine(EngineName.YARA_X, rule_files_in([BUILTIN_RULES]))
    searches = build_searches(load_known_keys([known]), SearchConfig())
    scanner = ChunkScanner(engine, PARSERS, chunk_size=CHUNK, jobs=2, searches=searches)
    data = bytearray(os.urandom(8 * CHUNK))
    offsets = [EDGE - 40, 5 * CHUNK + 4]  # across an edge, and inside a chunk
    data[offsets[0] : offsets[0] + 64] = stored(keys[0].q, LE, 64)
    data[offsets[1] : offsets[1] + 128] = stored(keys[1].p, WORDS, 128)
    path = tmp_path / "workers.raw"
    path.write_bytes(data)
    assert factor_offsets(scanner, path, [Region(0, len(data))]) == offsets


def test_random_window_sample_holds_no_factor(keys: list[RsaKey]) -> None:
    """A megabyte of random bytes (a quarter of its positions reach the exact test)."""
    data = np.random.default_rng(11).bytes(1 << 20)
    assert found(search_for(keys), data) == []
