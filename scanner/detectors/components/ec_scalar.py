"""EC private scalars of known public keys (P-256, P-384, P-521, secp256k1), as raw numbers.

A scalar d belongs to a known key Q when d*G == Q.  Testing one number costs
a scalar multiplication with OpenSSL through `cryptography`: about 30 us on
P-256 (33,000 tests/s), 300-350 us on P-384 and P-521 (about 3,000/s) and
700 us on secp256k1 (1,400/s), on one core of the development machine.  So
numbers are taken from the structures that hold them rather than from every
position:

* OpenSSL BIGNUM descriptors (see `bignum`): the candidate is the
  descriptor, at its own offset (24 bytes, encoding "bignum-le"; 20 bytes and
  "bignum32-le" in 32-bit processes).  The limbs it points at may lie
  anywhere in the dump, in another chunk or before the window; the
  descriptor's first byte is owned by exactly one chunk, so reporting it
  there gives each descriptor once, whatever the chunking.  A user triaging
  the finding reads the pointer at its address to reach the limbs.
* ASN.1 remnants, big-endian at any offset: the RFC 5915 privateKey OCTET
  STRING (04 20, 04 30, 04 42 or 04 41 for P-521 without its zero byte) and
  DER INTEGERs of the scalar (02 20 / 02 21 00, 02 30 / 02 31 00, 02 42 /
  02 41), encodings "der-octet-string" and "der-integer", reported at the tag.
* Under --deep, every window of the scalar's size at 8-byte-aligned
  addresses, little- and big-endian (encodings "le", "be"), at most
  `SearchConfig.wide_budget` multiplications per chunk.  A scalar that the
  descriptor pass reported is found here again at the limbs' own offset: two
  findings, the BIGNUM and the number it points to.

Every number first passes the cheap checks: 1 <= d < order, and the byte
statistics of `bytestats` (false-negative bound there).  Each distinct
number is multiplied once per chunk and curve.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from scanner.detectors.base import Candidate, Window
from scanner.detectors.components.base import (
    AddressSpace,
    ComponentSearch,
    KnownPublicKey,
    SearchConfig,
)
from scanner.detectors.components.bignum import Bignum, find_bignums, limb_counts
from scanner.detectors.components.bytestats import (
    BLOCK,
    ByteArray,
    looks_random,
    random_starts,
)
from scanner.detectors.components.layout import WindowLayout, window_layout
from scanner.errors import DetectorError, KeyProofError
from scanner.keys.base import Payload, PayloadKind
from scanner.keys.ec import CURVES, Curve, curve_of

DETECTOR = "ec-scalar"
# The wide pass tests aligned windows block by block, so its prefix sums stay small.
WIDE_BLOCK_BYTES = 1 << 20
WIDE_ALIGNMENT = BLOCK  # 8: the byte statistics run on 8-byte-aligned windows
WIDE_ORDERS: tuple[tuple[str, Literal["little", "big"]], ...] = (("le", "little"), ("be", "big"))
# Real memory gives a few descriptor and remnant candidates per MB (0.4 to 13
# measured); this many in one chunk is memory built to stall the scan (1.5 s
# of P-256, 35 s of secp256k1 multiplications), and the input fails closed.
STRUCTURE_TESTS_PER_CHUNK = 50_000
CACHE_ENTRIES = 1 << 16
_UNCOMPRESSED = (serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


@dataclass(frozen=True)
class CurveTargets:
    """The known keys on one curve, by their uncompressed point (SEC 1 2.3.3)."""

    curve: Curve
    keys: Mapping[bytes, KnownPublicKey]

    def owner(self, scalar: int) -> KnownPublicKey | None:
        """The known key whose point is scalar*G, if any (one multiplication)."""
        if not 1 <= scalar < self.curve.order:
            return None
        public_key = ec.derive_private_key(scalar, self.curve.curve).public_key()
        return self.keys.get(public_key.public_bytes(*_UNCOMPRESSED))


class ScalarTester:
    """Multiplies each distinct (curve, number) once, and counts the multiplications.

    The cache keeps at most CACHE_ENTRIES numbers, so a wide pass of a million
    tests does not hold a million numbers.
    """

    def __init__(self) -> None:
        self._seen: dict[tuple[str, int], KnownPublicKey | None] = {}
        self.multiplications = 0

    def owner(self, targets: CurveTargets, scalar: int) -> KnownPublicKey | None:
        key = (targets.curve.name, scalar)
        if key in self._seen:
            return self._seen[key]
        self.multiplications += 1 if 1 <= scalar < targets.curve.order else 0
        owner = targets.owner(scalar)
        if len(self._seen) < CACHE_ENTRIES:
            self._seen[key] = owner
        return owner


@dataclass(frozen=True)
class Remnant:
    """An ASN.1 encoding of a scalar: tag and length bytes, then value_length bytes.

    top_bit: DER minimal INTEGER rule for the value's first byte (X.690 8.3.2):
    set after a 00 pad byte, clear without one; None when not checked.
    """

    prefix: bytes
    value_length: int
    encoding: str
    scalar_size: int
    top_bit: bool | None = None

    @property
    def length(self) -> int:
        return len(self.prefix) + self.value_length

    def value_at(self, data: bytes, position: int) -> bytes | None:
        """The value after the prefix at `position`, when whole and DER-minimal."""
        start = position + len(self.prefix)
        value = data[start : start + self.value_length]
        if len(value) != self.value_length:
            return None
        if self.top_bit is not None and bool(value[0] & 0x80) != self.top_bit:
            return None
        return value


def remnants_for(size: int) -> tuple[Remnant, ...]:
    """RFC 5915 privateKey OCTET STRING and DER INTEGER forms of a `size`-byte scalar."""
    octets, integer = "der-octet-string", "der-integer"
    if size > 0x7F - 2:
        raise ValueError("scalar too long for a one-byte DER length")
    if size == 66:  # P-521: the top byte is 0 or 1, sometimes dropped
        return (
            Remnant(bytes([0x04, 66]), 66, octets, size),
            Remnant(bytes([0x04, 65]), 65, octets, size),
            Remnant(bytes([0x02, 66]), 66, integer, size),
            Remnant(bytes([0x02, 65]), 65, integer, size),
        )
    return (
        Remnant(bytes([0x04, size]), size, octets, size),
        Remnant(bytes([0x02, size]), size, integer, size, top_bit=False),
        Remnant(bytes([0x02, size + 1, 0x00]), size, integer, size, top_bit=True),
    )


# The longest read forward from a candidate's first byte: 02 42 + 66 value bytes.
MAX_LENGTH = max(remnant.length for curve in CURVES for remnant in remnants_for(curve.size_bytes))


class EcScalarSearch(ComponentSearch):
    name = DETECTOR
    max_length = MAX_LENGTH

    def __init__(self, targets: Sequence[CurveTargets], config: SearchConfig) -> None:
        self._targets = tuple(targets)
        self._config = config

    @classmethod
    def for_keys(
        cls, keys: Sequence[KnownPublicKey], config: SearchConfig
    ) -> EcScalarSearch | None:
        by_curve: dict[Curve, dict[bytes, KnownPublicKey]] = {}
        for key in keys:
            curve = _supported_curve(key)
            if curve is not None:
                by_curve.setdefault(curve, {})[key.public_key.public_bytes(*_UNCOMPRESSED)] = key
        if not by_curve:
            return None
        return cls([CurveTargets(curve, points) for curve, points in by_curve.items()], config)

    def search(self, window: Window, memory: AddressSpace) -> Iterable[Candidate]:
        chunk = _ChunkSearch(window, window_layout(window, memory), self._targets)
        yield from chunk.bignums(memory)
        yield from chunk.remnants()
        if self._config.deep:
            yield from chunk.wide(self._config.wide_budget)


class _ChunkSearch:
    """The passes over one window, sharing one cache of tested numbers."""

    def __init__(
        self, window: Window, layout: WindowLayout, targets: tuple[CurveTargets, ...]
    ) -> None:
        self.window = window
        self.layout = layout
        self.targets = targets
        self.tester = ScalarTester()

    def bignums(self, memory: AddressSpace) -> Iterator[Candidate]:
        bits = sorted({t.curve.curve.key_size for t in self.targets})
        for bignum in find_bignums(self.window, memory, self.layout, bits):
            where = Place(bignum.layout.encoding, bignum.offset, bignum.layout.size)
            candidate = self._first_owner(self._targets_for(bignum), bignum.value, where)
            if candidate is not None:
                yield candidate

    def _targets_for(self, bignum: Bignum) -> list[CurveTargets]:
        limb_bits = bignum.layout.pointer_size * 8
        return [
            targets
            for targets in self.targets
            if bignum.top in limb_counts(targets.curve.curve.key_size, limb_bits)
        ]

    def remnants(self) -> Iterator[Candidate]:
        sizes = sorted({t.curve.size_bytes for t in self.targets})
        remnants = [remnant for size in sizes for remnant in remnants_for(size)]
        for position, remnant in _remnant_positions(self.window, remnants):
            value = remnant.value_at(self.window.data, position)
            if value is None:
                continue
            size = remnant.scalar_size
            of_size = [t for t in self.targets if t.curve.size_bytes == size]
            where = Place(remnant.encoding, self.window.start + position, remnant.length)
            candidate = self._first_owner(of_size, int.from_bytes(value, "big"), where)
            if candidate is not None:
                yield candidate

    def _first_owner(
        self, targets: Iterable[CurveTargets], scalar: int, where: Place
    ) -> Candidate | None:
        for curve_targets in targets:
            if not self._plausible(curve_targets, scalar):
                continue
            if self.tester.multiplications >= STRUCTURE_TESTS_PER_CHUNK:
                raise DetectorError(
                    f"more than {STRUCTURE_TESTS_PER_CHUNK} EC scalar candidates in the chunk "
                    f"at offset {self.window.start}; refusing to pass this input as scanned"
                )
            owner = self.tester.owner(curve_targets, scalar)
            if owner is not None:
                return where.candidate(curve_targets.curve, scalar, owner)
        return None

    @staticmethod
    def _plausible(targets: CurveTargets, scalar: int) -> bool:
        if not 1 <= scalar < targets.curve.order:
            return False
        return looks_random(scalar.to_bytes(targets.curve.size_bytes, "big"))

    def wide(self, budget: int) -> Iterator[Candidate]:
        """Aligned windows of each curve's scalar size, until `budget` more multiplications."""
        limit = self.tester.multiplications + budget
        array = np.frombuffer(self.window.data, dtype=np.uint8)
        first = self.layout.first_aligned(self.window.start, WIDE_ALIGNMENT)
        owned = self.window.owned_end - self.window.start
        for block_start in range(first, owned, WIDE_BLOCK_BYTES):
            block_end = min(block_start + WIDE_BLOCK_BYTES, owned)
            for targets in self.targets:
                size = targets.curve.size_bytes
                starts = random_starts(array, block_start, block_end, size)
                yield from self._wide_starts(array, starts, targets, limit)
                if self.tester.multiplications >= limit:
                    return

    def _wide_starts(
        self, array: ByteArray, starts: list[int], targets: CurveTargets, limit: int
    ) -> Iterator[Candidate]:
        size = targets.curve.size_bytes
        top_byte_max = targets.curve.order >> (8 * (size - 1))
        for start in starts:
            value = array[start : start + size].tobytes()
            for encoding, byte_order in WIDE_ORDERS:
                top_byte = value[-1] if byte_order == "little" else value[0]
                if top_byte > top_byte_max:
                    continue
                if self.tester.multiplications >= limit:
                    return
                scalar = int.from_bytes(value, byte_order)
                owner = self.tester.owner(targets, scalar)
                if owner is not None:
                    where = Place(encoding, self.window.start + start, size)
                    yield where.candidate(targets.curve, scalar, owner)


def _remnant_positions(
    window: Window, remnants: Sequence[Remnant]
) -> Iterator[tuple[int, Remnant]]:
    """(window position, remnant) for each remnant prefix starting in the owned range.

    numpy finds the tag bytes and then the length bytes in one pass over the
    window, whatever the number of prefixes (bytes.find per prefix was 5x slower).
    """
    data = window.data
    array = np.frombuffer(data, dtype=np.uint8)
    owned = max(0, min(window.owned_end - window.start, len(array) - 1))
    tags = array[:owned]
    hits = np.zeros(owned, dtype=np.bool_)
    for tag in {remnant.prefix[0] for remnant in remnants}:
        hits |= tags == tag
    positions = np.flatnonzero(hits)
    lengths = array[positions + 1]
    keep = np.zeros(len(positions), dtype=np.bool_)
    for length in {remnant.prefix[1] for remnant in remnants}:
        keep |= lengths == length
    for position in positions[keep].tolist():
        for remnant in remnants:
            if data.startswith(remnant.prefix, position):
                yield position, remnant


@dataclass(frozen=True)
class Place:
    """Where a number was found and how it was stored."""

    encoding: str
    offset: int
    length: int

    def candidate(self, curve: Curve, scalar: int, owner: KnownPublicKey) -> Candidate:
        scalar_bytes = scalar.to_bytes(curve.size_bytes, "big")
        payload = Payload(PayloadKind.EC_SCALAR, scalar_bytes, public_spki=owner.spki)
        return Candidate(DETECTOR, self.encoding, self.offset, self.length, payload)


def _supported_curve(key: KnownPublicKey) -> Curve | None:
    if not isinstance(key.public_key, ec.EllipticCurvePublicKey):
        return None
    try:
        return curve_of(key.public_key.curve)
    except KeyProofError:
        return None
