"""The overlap contract of scanner.detectors.base, on real rules, parsers and keys.

A key planted across every chunk edge is found exactly once at its offset;
regions that are not contiguous in memory are never joined; a flood of decoy
matches that saturates the engine's per-pattern cap does not hide a real key.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.config import EngineName
from scanner.detectors import PARSERS
from scanner.detectors.engines import build_engine
from scanner.detectors.engines.base import rule_files_in
from scanner.detectors.scan import ChunkScanner, Span, plan_all, plan_chunks, spans_of
from scanner.formats.base import Region
from scanner.pipeline import BUILTIN_RULES

CHUNK = 4096


@pytest.fixture(scope="module", params=list(EngineName))
def chunk_scanner(request: pytest.FixtureRequest) -> ChunkScanner:
    engine = build_engine(request.param, rule_files_in([BUILTIN_RULES]))
    return ChunkScanner(engine, PARSERS, chunk_size=CHUNK, jobs=2)


@pytest.fixture(scope="module")
def pem_key() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture(scope="module")
def der_key() -> bytes:
    return ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def plant(tmp_path: Path, size: int, planted: dict[int, bytes]) -> Path:
    data = bytearray(size)
    for offset, blob in planted.items():
        data[offset : offset + len(blob)] = blob
    path = tmp_path / "image.raw"
    path.write_bytes(bytes(data))
    return path


def offsets_found(scanner: ChunkScanner, path: Path, regions: list[Region]) -> list[int]:
    return sorted(c.offset for c in scanner.scan_file(path, regions))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edge=st.integers(1, 6), shift=st.integers(-700, 40))
def test_a_key_across_any_chunk_edge_is_found_once(
    chunk_scanner: ChunkScanner, pem_key: bytes, tmp_path: Path, edge: int, shift: int
) -> None:
    offset = edge * CHUNK + shift
    path = plant(tmp_path, 8 * CHUNK, {offset: pem_key})
    assert offsets_found(chunk_scanner, path, [Region(0, 8 * CHUNK)]) == [offset]


def test_every_byte_position_around_one_edge(
    chunk_scanner: ChunkScanner, der_key: bytes, tmp_path: Path
) -> None:
    for offset in range(CHUNK - len(der_key) - 2, CHUNK + 2):
        path = plant(tmp_path, 3 * CHUNK, {offset: der_key})
        assert offsets_found(chunk_scanner, path, [Region(0, 3 * CHUNK)]) == [offset]


def test_key_across_contiguous_regions_is_found(
    chunk_scanner: ChunkScanner, pem_key: bytes, tmp_path: Path
) -> None:
    offset = CHUNK - 100
    path = plant(tmp_path, 2 * CHUNK, {offset: pem_key})
    regions = [Region(0, CHUNK, 0x10000, "rw-"), Region(CHUNK, CHUNK, 0x10000 + CHUNK, "rw-")]
    assert offsets_found(chunk_scanner, path, regions) == [offset]


def test_regions_apart_in_memory_are_never_joined(
    chunk_scanner: ChunkScanner, pem_key: bytes, tmp_path: Path
) -> None:
    offset = CHUNK - 100
    path = plant(tmp_path, 2 * CHUNK, {offset: pem_key})
    regions = [Region(0, CHUNK, 0x10000, "rw-"), Region(CHUNK, CHUNK, 0x90000, "rw-")]
    assert offsets_found(chunk_scanner, path, regions) == []


def test_bytes_outside_regions_are_not_scanned(
    chunk_scanner: ChunkScanner, pem_key: bytes, tmp_path: Path
) -> None:
    path = plant(tmp_path, 4 * CHUNK, {100: pem_key, 2 * CHUNK + 8: pem_key})
    assert offsets_found(chunk_scanner, path, [Region(2 * CHUNK, 2 * CHUNK, 0x1000)]) == [
        2 * CHUNK + 8
    ]


def test_decoy_flood_past_the_match_cap_does_not_hide_a_key(pem_key: bytes, tmp_path: Path) -> None:
    # 1.2 million decoy PEM headers (more than the engines' one-million cap per
    # pattern) followed by one real key: the driver must split and still find it.
    decoy = b"-----BEGIN "
    flood = decoy * 1_200_000
    key_offset = len(flood) + 5
    data = flood + bytes(5) + pem_key + bytes(64)
    path = tmp_path / "flood.raw"
    path.write_bytes(data)
    engine = build_engine(EngineName.YARA_X, rule_files_in([BUILTIN_RULES]))
    scanner = ChunkScanner(engine, PARSERS, chunk_size=len(data), jobs=1)
    assert offsets_found(scanner, path, [Region(0, len(data))]) == [key_offset]


def test_chunk_plan_owns_every_byte_once() -> None:
    span = Span(10, 10 * CHUNK + 7)
    plans = list(plan_chunks(span, CHUNK, 300))
    owned = [(p.read_start, p.owned_end) for p in plans]
    assert owned[0][0] == span.file_offset
    assert owned[-1][1] == span.file_end
    assert all(a[1] == b[0] for a, b in itertools.pairwise(owned))
    assert all(p.read_end == min(p.owned_end + 300, span.file_end) for p in plans)


def test_spans_merge_only_what_continues() -> None:
    regions = [
        Region(0, 10, 100),
        Region(10, 10, 110),
        Region(20, 10, 500),
        Region(40, 5, 510),
    ]
    assert spans_of(regions) == [Span(0, 20), Span(20, 10), Span(40, 5)]


def test_random_background_gives_no_candidates(chunk_scanner: ChunkScanner, tmp_path: Path) -> None:
    path = tmp_path / "random.raw"
    path.write_bytes(os.urandom(4 << 20))
    assert chunk_scanner.scan_file(path, [Region(0, 4 << 20)]) == []


def test_many_small_regions_are_scanned_in_batches_without_joining_them(
    tmp_path: Path, chunk_scanner: ChunkScanner, der_key: bytes, pem_key: bytes
) -> None:
    """Small spans (a heap dump's arrays) share engine calls; each match is parsed in
    its own region only, so a key split over two regions is never a candidate."""
    region_size, stride = 200, 230  # 30 unscanned bytes between regions
    regions = [Region(file_offset=i * stride, size=region_size) for i in range(400)]
    half = len(pem_key) // 2
    pem_in_two = {350 * stride + region_size - half: pem_key[:half], 351 * stride: pem_key[half:]}
    path = plant(tmp_path, 400 * stride, {123 * stride + 7: der_key, **pem_in_two})

    candidates = chunk_scanner.scan_file(path, regions)

    assert [(c.detector, c.offset) for c in candidates] == [("der-pkcs8", 123 * stride + 7)]
    plans = list(plan_all(spans_of(regions), CHUNK, chunk_scanner.overlap))
    assert len(plans) < 400 // 10  # ~17 regions per 4 KiB chunk: one engine call each
    assert sum(len(plan.spans) for plan in plans) == 400
