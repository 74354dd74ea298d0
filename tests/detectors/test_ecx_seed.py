"""Ed25519, X25519, Ed448 and X448 private keys of known keys, anchored on their public bytes.

Planted raw files (libsodium's seed || public key, a seed a little after its
public key), small spec-exact ELF cores holding OpenSSL 3's ECX_KEY layout
(public key inline, pointer to the private key), chunk edges, and the --deep
wide pass.  The live-process test (a gcore of Python holding an Ed25519 key)
is in test_ec_scalar.py, which dumps one process for both searches.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, x448, x25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.config import ScanConfig, Severity
from scanner.detectors.components import ecx_seed
from scanner.detectors.components.base import SearchConfig
from scanner.detectors.components.ecx_seed import MAX_LENGTH, RADIUS, EcxSeedSearch
from scanner.keys.fingerprint import fingerprint_public_key
from scanner.pipeline import scan
from tests.detectors.test_ec_scalar import (
    CHUNK,
    HEAP_ADDRESS,
    LIMBS_ADDRESS,
    background,
    chunk_scanner,
    scan_findings,
    scanned_offsets,
    write_known,
)
from tests.formats.test_elfcore import (
    EM_X86_64,
    NT_PRPSINFO,
    PF_R,
    PF_W,
    Segment,
    build_elf_core,
    note,
    prpsinfo,
)

GENERATE = {
    "Ed25519": ed25519.Ed25519PrivateKey.generate,
    "X25519": x25519.X25519PrivateKey.generate,
    "Ed448": ed448.Ed448PrivateKey.generate,
    "X448": x448.X448PrivateKey.generate,
}


def private_and_public(key: PrivateKeyTypes) -> tuple[bytes, bytes]:
    assert isinstance(
        key,
        ed25519.Ed25519PrivateKey
        | x25519.X25519PrivateKey
        | ed448.Ed448PrivateKey
        | x448.X448PrivateKey,
    )
    return key.private_bytes_raw(), key.public_key().public_bytes_raw()


def raw_file(tmp_path: Path, size: int, planted: dict[int, bytes]) -> Path:
    data = background(size)
    for offset, blob in planted.items():
        data[offset : offset + len(blob)] = blob
    path = tmp_path / "heap.raw"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("algorithm", list(GENERATE))
def test_seed_right_before_its_public_key_is_found_at_the_seed(
    tmp_path: Path, algorithm: str
) -> None:
    key = GENERATE[algorithm]()
    private, public = private_and_public(key)
    offset = 1001  # odd: libsodium's sk buffer is bytes, the seed is found by adjacency
    path = raw_file(tmp_path, 4096, {offset: private + public})

    (finding,) = scan_findings(path, write_known(tmp_path, key.public_key()))

    assert (finding.detector, finding.encoding) == ("ecx-seed", "raw")
    assert (finding.offset, finding.length) == (offset, len(private) + len(public))
    assert finding.severity is Severity.CRITICAL
    assert finding.fingerprint == fingerprint_public_key(key.public_key())
    assert finding.algorithm == algorithm


@pytest.mark.parametrize("gap", [0, 8, 64, RADIUS - 32])
def test_seed_after_its_public_key_is_found_from_the_public_key(tmp_path: Path, gap: int) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    private, public = private_and_public(key)
    anchor = 1000
    seed_at = anchor + 32 + gap
    path = raw_file(tmp_path, 4096, {anchor: public, seed_at: private})

    (finding,) = scan_findings(path, write_known(tmp_path, key.public_key()))

    assert (finding.offset, finding.length) == (anchor, seed_at + 32 - anchor)
    assert finding.encoding == "raw"


def test_seed_beyond_the_radius_is_found_only_with_deep(tmp_path: Path) -> None:
    key = x25519.X25519PrivateKey.generate()
    private, public = private_and_public(key)
    seed_at = 1000 + 32 + RADIUS + 64
    path = raw_file(tmp_path, 4096, {1000: public, seed_at: private})
    known = write_known(tmp_path, key.public_key())

    assert scan_findings(path, known) == []
    (finding,) = scan_findings(path, known, deep=True)
    assert (finding.offset, finding.length, finding.encoding) == (seed_at, 32, "raw")


def test_lone_seed_is_found_only_with_deep_and_within_the_budget(tmp_path: Path) -> None:
    key = ed448.Ed448PrivateKey.generate()
    private, _ = private_and_public(key)
    path = tmp_path / "heap.raw"
    path.write_bytes(os.urandom(1024) + private + bytes(64))
    known = write_known(tmp_path, key.public_key())

    assert scan_findings(path, known) == []
    small = chunk_scanner(known, SearchConfig(deep=True, wide_budget=50))
    enough = chunk_scanner(known, SearchConfig(deep=True, wide_budget=200))
    assert scanned_offsets(small, path, "ecx-seed") == []  # 128 random windows come first
    assert scanned_offsets(enough, path, "ecx-seed") == [1024]


def test_public_key_without_its_seed_and_unknown_keys_give_nothing(tmp_path: Path) -> None:
    key, other = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    private, public = private_and_public(key)
    lonely = raw_file(tmp_path, 4096, {1000: public})
    assert scan_findings(lonely, write_known(tmp_path, key.public_key())) == []
    planted = raw_file(tmp_path, 4096, {1000: private + public})
    assert scan_findings(planted, write_known(tmp_path, other.public_key())) == []
    assert scan_findings(planted, None) == []


def test_x25519_key_is_not_proven_by_the_ed25519_seed_of_the_same_bytes(tmp_path: Path) -> None:
    """An X25519 public key next to bytes that are an Ed25519 seed of another key."""
    x_key = x25519.X25519PrivateKey.generate()
    ed_seed, _ = private_and_public(ed25519.Ed25519PrivateKey.generate())
    _, x_public = private_and_public(x_key)
    path = raw_file(tmp_path, 4096, {1000: ed_seed + x_public})
    assert scan_findings(path, write_known(tmp_path, x_key.public_key())) == []


# --- OpenSSL 3 ECX_KEY in a core: public key inline, pointer to the private key --------------


def ecx_key_struct(public: bytes, private_address: int) -> bytes:
    """crypto/ec/ecx_key.h on x86-64: libctx, propq, haspubkey:1, pubkey[57], privkey, keylen."""
    head = struct.pack("<QQB", HEAP_ADDRESS + 0x900, 0, 1) + public.ljust(57, b"\0")
    return head.ljust(80, b"\0") + struct.pack("<QQ", private_address, 32)


def ecx_core(tmp_path: Path, public: bytes, private: bytes, struct_at: int) -> tuple[Path, int]:
    """A core whose heap holds the ECX_KEY and whose secure heap holds the private key."""
    heap = background(4 * CHUNK)
    structure = ecx_key_struct(public, LIMBS_ADDRESS + 0x80)
    heap[struct_at : struct_at + len(structure)] = structure
    secure = background(CHUNK)
    secure[0x80 : 0x80 + len(private)] = private
    segments = [
        Segment(vaddr=HEAP_ADDRESS, flags=PF_R | PF_W, data=bytes(heap)),
        Segment(vaddr=LIMBS_ADDRESS, flags=PF_R | PF_W, data=bytes(secure)),
    ]
    notes = note(b"CORE", NT_PRPSINFO, prpsinfo(64, "<", False, 77, b"sshd"), "<")
    layout = build_elf_core(64, "<", EM_X86_64, segments, notes)
    path = tmp_path / "ecx.core"
    path.write_bytes(layout.data)
    return path, layout.load_offsets[0]


@pytest.mark.parametrize("algorithm", ["Ed25519", "X448"])
def test_private_key_behind_a_pointer_beside_the_public_key_is_found(
    tmp_path: Path, algorithm: str
) -> None:
    key = GENERATE[algorithm]()
    private, public = private_and_public(key)
    path, heap_offset = ecx_core(tmp_path, public, private, struct_at=0x400)

    (finding,) = scan_findings(path, write_known(tmp_path, key.public_key()))

    # The pair runs from the public key (struct + 17) to the end of the pointer (struct + 88).
    assert (finding.detector, finding.encoding) == ("ecx-seed", "pointer")
    assert (finding.offset, finding.length) == (heap_offset + 0x400 + 17, 88 - 17)
    assert finding.address == HEAP_ADDRESS + 0x400 + 17
    assert finding.severity is Severity.CRITICAL


@pytest.mark.parametrize("shift", range(-96, 17, 8))
def test_ecx_key_across_a_chunk_edge_is_found_once(tmp_path: Path, shift: int) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    private, public = private_and_public(key)
    path, heap_offset = ecx_core(tmp_path, public, private, struct_at=CHUNK + shift)
    scanner = chunk_scanner(write_known(tmp_path, key.public_key()))
    assert scanned_offsets(scanner, path, "ecx-seed") == [heap_offset + CHUNK + shift + 17]


@pytest.fixture(scope="module")
def edge_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[ed25519.Ed25519PrivateKey, Path]:
    key = ed25519.Ed25519PrivateKey.generate()
    return key, write_known(tmp_path_factory.mktemp("known"), key.public_key())


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edge=st.integers(1, 3), shift=st.integers(-80, 8), seed_after=st.booleans())
def test_seed_and_public_key_across_any_chunk_edge_are_found_once(
    edge_key: tuple[ed25519.Ed25519PrivateKey, Path],
    tmp_path_factory: pytest.TempPathFactory,
    edge: int,
    shift: int,
    seed_after: bool,
) -> None:
    key, known = edge_key
    private, public = private_and_public(key)
    start = edge * CHUNK + shift
    if seed_after:  # public key, 32 bytes gap, seed at an aligned offset
        start -= start % 8
        planted, first = {start: public, start + 64: private}, start
    else:
        planted, first = {start: private + public}, start
    path = raw_file(tmp_path_factory.mktemp("edge"), 4 * CHUNK, planted)
    assert scanned_offsets(chunk_scanner(known), path, "ecx-seed") == [first]


def test_overlap_covers_the_farthest_pair() -> None:
    """A pair is at most RADIUS + the longest key apart: it fits in max_length."""
    assert MAX_LENGTH >= RADIUS + 57
    assert EcxSeedSearch.max_length == MAX_LENGTH


def test_search_applies_only_to_rfc7748_and_rfc8032_keys() -> None:
    assert EcxSeedSearch.for_keys([], SearchConfig()) is None


def test_memory_flooded_with_a_known_public_key_fails_the_input_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ecx_seed, "ANCHORS_PER_CHUNK", 10)
    key = ed25519.Ed25519PrivateKey.generate()
    _, public = private_and_public(key)
    path = tmp_path / "flood.raw"
    path.write_bytes((os.urandom(32) + public) * 20)
    known = write_known(tmp_path, key.public_key())
    report = scan(ScanConfig(paths=(str(path),), known_keys=(known,)))
    (result,) = report.inputs
    assert result.status.value == "error"
    assert result.error is not None
    assert "copies of a known public key" in result.error
