"""Ed25519, X25519, Ed448 and X448 private keys of known public keys, as raw bytes.

Every 32 (56, 57) bytes are a valid private key of these curves (RFC 7748
section 5, RFC 8032 section 5.1.5), so only the derived public key tells a
seed from noise.  Programs keep the public key next to the private one, and
the known public key's raw bytes are a cheap anchor (bytes.find):

* beside the anchor: the private bytes right before it (libsodium keeps
  seed || public key) and every aligned position within `RADIUS` bytes on
  either side, encoding "raw";
* behind a pointer near the anchor: every aligned word within `RADIUS`
  bytes that points into dumped memory is followed and the key-length bytes
  there are tried (OpenSSL 3's ECX_KEY holds the public key inline and a
  pointer to the private key, 63 bytes after the public key's first byte on
  x86-64), encoding "pointer";
* under --deep, every 8-byte-aligned window of the key's length, up to
  `SearchConfig.wide_budget` derivations per chunk, encoding "raw".

A candidate covers the anchor and what was found beside it (the seed, or the
pointer word): its offset is the first byte of that pair, its length runs to
the last.  So the chunk that owns the pair's first byte reports it, which
makes each pair reported once whatever the chunking (the window holds the
`max_length` bytes after that first byte), and every candidate of one anchor
overlaps the anchor, so the findings stage keeps one per place.  With the
seed right before its public key (the common layout) the offset is the
seed's own.

Numbers tried pass the byte statistics of `bytestats` first (false-negative
bound there); each distinct private value is derived once per chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, x448, x25519
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from scanner.detectors.base import Candidate, Window
from scanner.detectors.components.base import (
    AddressSpace,
    ComponentSearch,
    KnownPublicKey,
    SearchConfig,
)
from scanner.detectors.components.bytestats import BLOCK, ByteArray, looks_random, random_starts
from scanner.detectors.components.layout import WindowLayout, window_layout
from scanner.errors import DetectorError
from scanner.keys.base import Payload, PayloadKind

DETECTOR = "ecx-seed"
# How far from the public key a program keeps the private key or a pointer to it.
RADIUS = 256
WIDE_ALIGNMENT = BLOCK  # 8: the byte statistics run on 8-byte-aligned windows
WIDE_BLOCK_BYTES = 1 << 20
# Each anchor costs up to 2 * (2 * RADIUS / 8 + 1) reads and derivations (about
# 0.3 ms); more copies of one public key than this in one chunk is memory built
# to stall the scan, and the input fails closed.
ANCHORS_PER_CHUNK = 1 << 16
CACHE_ENTRIES = 1 << 16


def _ed25519_public(private: bytes) -> bytes:
    return ed25519.Ed25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()


def _x25519_public(private: bytes) -> bytes:
    return x25519.X25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()


def _ed448_public(private: bytes) -> bytes:
    return ed448.Ed448PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()


def _x448_public(private: bytes) -> bytes:
    return x448.X448PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()


@dataclass(frozen=True)
class SeedAlgorithm:
    """One RFC 7748/8032 algorithm: key lengths and private -> raw public derivation."""

    name: str
    public_type: type
    private_length: int
    public_length: int
    derive_public: Callable[[bytes], bytes]


ALGORITHMS = (
    SeedAlgorithm("Ed25519", ed25519.Ed25519PublicKey, 32, 32, _ed25519_public),
    SeedAlgorithm("X25519", x25519.X25519PublicKey, 32, 32, _x25519_public),
    SeedAlgorithm("Ed448", ed448.Ed448PublicKey, 57, 57, _ed448_public),
    SeedAlgorithm("X448", x448.X448PublicKey, 56, 56, _x448_public),
)
MAX_LENGTH = RADIUS + max(
    max(algorithm.private_length, algorithm.public_length) for algorithm in ALGORITHMS
)


def algorithm_of(public_key: PublicKeyTypes) -> SeedAlgorithm | None:
    for algorithm in ALGORITHMS:
        if isinstance(public_key, algorithm.public_type):
            return algorithm
    return None


def raw_public_bytes(public_key: PublicKeyTypes) -> bytes:
    assert isinstance(
        public_key,
        ed25519.Ed25519PublicKey
        | x25519.X25519PublicKey
        | ed448.Ed448PublicKey
        | x448.X448PublicKey,
    )
    return public_key.public_bytes_raw()


@dataclass(frozen=True)
class SeedTargets:
    """The known keys of one algorithm, by their raw public bytes."""

    algorithm: SeedAlgorithm
    keys: Mapping[bytes, KnownPublicKey]


class SeedTester:
    """Derives each distinct private value once per algorithm (up to CACHE_ENTRIES cached)."""

    def __init__(self) -> None:
        self._public: dict[tuple[str, bytes], bytes] = {}
        self.derivations = 0

    def public_of(self, algorithm: SeedAlgorithm, private: bytes) -> bytes | None:
        """The raw public key of `private`; None for bytes that cannot be a key."""
        if len(private) != algorithm.private_length or not looks_random(private):
            return None
        key = (algorithm.name, private)
        if key in self._public:
            return self._public[key]
        self.derivations += 1
        public = algorithm.derive_public(private)
        if len(self._public) < CACHE_ENTRIES:
            self._public[key] = public
        return public


class EcxSeedSearch(ComponentSearch):
    name = DETECTOR
    max_length = MAX_LENGTH

    def __init__(self, targets: Sequence[SeedTargets], config: SearchConfig) -> None:
        self._targets = tuple(targets)
        self._config = config

    @classmethod
    def for_keys(cls, keys: Sequence[KnownPublicKey], config: SearchConfig) -> EcxSeedSearch | None:
        by_algorithm: dict[str, dict[bytes, KnownPublicKey]] = {}
        algorithms: dict[str, SeedAlgorithm] = {}
        for key in keys:
            algorithm = algorithm_of(key.public_key)
            if algorithm is not None:
                algorithms[algorithm.name] = algorithm
                by_algorithm.setdefault(algorithm.name, {})[raw_public_bytes(key.public_key)] = key
        if not by_algorithm:
            return None
        targets = [SeedTargets(algorithms[name], keys) for name, keys in by_algorithm.items()]
        return cls(targets, config)

    def search(self, window: Window, memory: AddressSpace) -> Iterable[Candidate]:
        chunk = _ChunkSeeds(window, window_layout(window, memory), memory)
        for targets in self._targets:
            yield from chunk.anchored(targets)
        if self._config.deep:
            yield from chunk.wide(self._targets, self._config.wide_budget)


@dataclass(frozen=True)
class Placement:
    """Private bytes tried for one anchor, and the window range the candidate covers."""

    private: bytes
    first: int
    end: int
    encoding: str


class _ChunkSeeds:
    def __init__(self, window: Window, layout: WindowLayout, memory: AddressSpace) -> None:
        self.window = window
        self.layout = layout
        self.memory = memory
        self.tester = SeedTester()

    def anchored(self, targets: SeedTargets) -> Iterator[Candidate]:
        for public, known in targets.keys.items():
            for count, anchor in enumerate(_occurrences(self.window.data, public)):
                if count >= ANCHORS_PER_CHUNK:
                    raise DetectorError(
                        f"more than {ANCHORS_PER_CHUNK} copies of a known public key in the "
                        f"chunk at offset {self.window.start}; refusing to pass this input "
                        "as scanned"
                    )
                candidate = self._at_anchor(targets.algorithm, public, known, anchor)
                if candidate is not None:
                    yield candidate

    def _at_anchor(
        self, algorithm: SeedAlgorithm, public: bytes, known: KnownPublicKey, anchor: int
    ) -> Candidate | None:
        for placement in self._placements(algorithm, anchor):
            if not self.window.owns(self.window.start + placement.first):
                continue
            if self.tester.public_of(algorithm, placement.private) == public:
                payload = Payload(PayloadKind.ECX_SEED, placement.private, public_spki=known.spki)
                offset = self.window.start + placement.first
                length = placement.end - placement.first
                return Candidate(DETECTOR, placement.encoding, offset, length, payload)
        return None

    def _placements(self, algorithm: SeedAlgorithm, anchor: int) -> Iterator[Placement]:
        anchor_end = anchor + algorithm.public_length
        for position in self._beside(algorithm, anchor):
            end = position + algorithm.private_length
            private = self.window.data[position:end]
            yield Placement(private, min(position, anchor), max(end, anchor_end), "raw")
        for position, private in self._pointed(algorithm, anchor):
            end = position + self.layout.pointer_size
            yield Placement(private, min(position, anchor), max(end, anchor_end), "pointer")

    def _beside(self, algorithm: SeedAlgorithm, anchor: int) -> Iterator[int]:
        """Window positions of private bytes next to the anchor, not overlapping it."""
        length = algorithm.private_length
        before = anchor - length
        aligned = self._aligned_near(anchor, WIDE_ALIGNMENT, length)
        for position in (before, *(p for p in aligned if p != before)):
            overlaps = position < anchor + algorithm.public_length and anchor < position + length
            if position >= 0 and position + length <= len(self.window.data) and not overlaps:
                yield position

    def _pointed(self, algorithm: SeedAlgorithm, anchor: int) -> Iterator[tuple[int, bytes]]:
        """(word position, bytes it points at) for aligned pointers near the anchor."""
        if self.layout.address is None:
            return
        size = self.layout.pointer_size
        for position in self._aligned_near(anchor, size, size):
            word = self.window.data[position : position + size]
            private = self.memory.read(int.from_bytes(word, "little"), algorithm.private_length)
            if private is not None:
                yield position, private

    def _aligned_near(self, anchor: int, alignment: int, length: int) -> range:
        """Aligned p, |p - anchor| <= RADIUS, whose `length` bytes lie in the window."""
        first = self.layout.first_aligned(self.window.start, alignment)
        low = max(anchor - RADIUS, 0)
        low += (first - low) % alignment
        high = min(anchor + RADIUS, len(self.window.data) - length)
        return range(low, high + 1, alignment)

    def wide(self, all_targets: Sequence[SeedTargets], budget: int) -> Iterator[Candidate]:
        """Every aligned window of each algorithm's key length, until `budget` derivations."""
        limit = self.tester.derivations + budget
        array = np.frombuffer(self.window.data, dtype=np.uint8)
        first = self.layout.first_aligned(self.window.start, WIDE_ALIGNMENT)
        owned = self.window.owned_end - self.window.start
        for block_start in range(first, owned, WIDE_BLOCK_BYTES):
            block_end = min(block_start + WIDE_BLOCK_BYTES, owned)
            for targets in all_targets:
                yield from self._wide_block(array, block_start, block_end, targets, limit)
                if self.tester.derivations >= limit:
                    return

    def _wide_block(
        self, array: ByteArray, block_start: int, block_end: int, targets: SeedTargets, limit: int
    ) -> Iterator[Candidate]:
        length = targets.algorithm.private_length
        for start in random_starts(array, block_start, block_end, length):
            if self.tester.derivations >= limit:
                return
            private = self.window.data[start : start + length]
            known = targets.keys.get(self.tester.public_of(targets.algorithm, private) or b"")
            if known is not None:
                payload = Payload(PayloadKind.ECX_SEED, private, public_spki=known.spki)
                yield Candidate(DETECTOR, "raw", self.window.start + start, length, payload)


def _occurrences(data: bytes, needle: bytes) -> Iterator[int]:
    position = data.find(needle)
    while position >= 0:
        yield position
        position = data.find(needle, position + 1)
