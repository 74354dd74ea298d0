"""Prime factors of known RSA moduli, stored in memory as raw numbers.

A process that loaded an RSA key keeps p and q as numbers: OpenSSL BIGNUM limbs,
JVM BigInteger words, Go and .NET word arrays, bytes left from a DER key that was
parsed and freed.  For each known RSA key n (--known-keys), this search reports
every place where a prime factor of n is stored:

* ``be``: big-endian bytes at 8-byte-aligned addresses, and at any offset right
  after an ASN.1 INTEGER header (02 81 81 00, 02 82 01 01 00, ..., or without the
  zero byte when the number's top bit is clear): the remnant of a DER key.
* ``le``: little-endian bytes (limb arrays) at 4-byte-aligned addresses (which
  include the 8-byte-aligned ones).
* ``be32-words-le``: 32-bit words most significant first, each little-endian
  (JVM int[] mag), at 4-byte-aligned addresses.

Alignment is by virtual address (a minidump stores ranges at any file offset);
in raw files, by file offset.  Offsets and lengths are those of the number as
stored, without the ASN.1 header.  A number at any other offset is not found:
little-endian at 2 mod 4, say, is not a place a limb array lives.  One
exception keeps the overlap contract: a big-endian factor in the first five
bytes of a chunk is tested whatever precedes it, because its header would lie
in the previous chunk, which does not own the number (chunks never read
backwards); only a real factor passes, so this reports a remnant whose header
straddles a chunk edge exactly once and nothing that is not a factor.

Balanced primes only: a modulus of b bits has factors of floor(b/2) and
ceil(b/2) bits (OpenSSL, Java, Go, BouncyCastle, libgcrypt all generate so),
hence of ceil(ceil(b/2)/8) bytes.  Moduli from 512 to 16384 bits (OpenSSL's
limit): a factor is at most 1024 bytes, which with a 5-byte header is
`max_length`.  Keys are grouped by factor length, so each window length is
screened once for all keys of that size.

Before any big-number arithmetic (see `prefilter`), every aligned position must
pass, vectorised over the whole window: top two bytes in the range the known
moduli allow (v > n / 2**ceil(b/2) because the cofactor is below
2**ceil(b/2), and v >= 2**(floor(b/2)-1)); odd; no prime factor up to
`sieve_limit(K)`; at most `max_zero_words(L)` zero 32-bit words (a real prime
exceeds it with probability below 2**-48).  The survivors are tested exactly,
against the moduli whose range holds their top bits (`DivisorTest`).  A match
is handed to the prover, which rebuilds the private key and signs with it
(scanner.keys.rsa_factor).

Throughput, `dumpguard scan` end to end on samples/bench_image.py's 1 GiB image
(55 % zero, 15 % pointer, 15 % text, 15 % random pages), 2 cores (forked
workers), RSA-2048 known keys, one run of `make bench` with all of rules/ (the
structured scan alone is the first row):

=========  ========  ========
keys       seconds   MB/s
=========  ========  ========
none       1.55      695
1          6.5       165
10         26.8      40
100        60.6      18
=========  ========  ========

Random pages set the cost: a third of their aligned positions have an
admissible top byte, half of those are odd, a fifth of those have no factor
below 192, and nothing else tells a prime from random bytes.  About 52,000
numbers per 16 MiB chunk reach the exact test, at 2-5 us each for ten keys;
the prefilters take the other 40 %.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from cryptography.hazmat.primitives.asymmetric import rsa

from scanner.detectors.base import Candidate, Window
from scanner.detectors.components.base import (
    AddressSpace,
    ComponentSearch,
    KnownPublicKey,
    SearchConfig,
)
from scanner.detectors.components.divisors import DivisorTest
from scanner.detectors.components.layout import WindowLayout, window_layout
from scanner.detectors.components.prefilter import (
    ByteArray,
    Layout,
    NumberShape,
    Offsets,
    Screen,
    SmallFactorSieve,
    aligned_range,
    canonical_rows,
    max_zero_words,
    odd_primes,
    screen_aligned,
    screen_offsets,
    stored_rows,
    top_table_for_ranges,
    zero_word_counts,
)
from scanner.keys.base import Payload, PayloadKind

DETECTOR = "rsa-factor"
# Signing with PKCS#1 v1.5 and SHA-256 (the proof) needs a modulus of at least 62 bytes.
MIN_MODULUS_BITS = 512
MAX_MODULUS_BITS = 16384  # OPENSSL_RSA_MAX_MODULUS_BITS
MAX_FACTOR_BYTES = -(-(MAX_MODULUS_BITS // 2) // 8)
ASN1_HEADER_MAX = 5  # 02 82 hh ll 00
INTEGER_TAG = 0x02
# (layout, alignment by address) of the aligned passes
ALIGNED_PLACES = ((Layout.BE, 8), (Layout.LE, 4), (Layout.BE32_WORDS_LE, 4))


@dataclass(frozen=True)
class KnownModulus:
    key: KnownPublicKey
    modulus: int

    @property
    def bits(self) -> int:
        return self.modulus.bit_length()


def factor_bit_lengths(modulus_bits: int) -> tuple[int, int]:
    """Bit lengths a balanced factor of a modulus of `modulus_bits` bits has: (low, high)."""
    return modulus_bits // 2, (modulus_bits + 1) // 2


def factor_byte_lengths(modulus_bits: int) -> set[int]:
    return {-(-bits // 8) for bits in factor_bit_lengths(modulus_bits)}


def factor_range(modulus: int, length: int) -> tuple[int, int] | None:
    """Inclusive [low, high] of the balanced factors of `modulus` that are `length` bytes long.

    A factor v has cofactor u = n / v; both have floor(b/2) or ceil(b/2) bits, so
    n / 2**ceil(b/2) < v <= n / 2**(floor(b/2) - 1).
    """
    low_bits, high_bits = factor_bit_lengths(modulus.bit_length())
    low = max(1 << (low_bits - 1), (modulus >> high_bits) + 1, 1 << (8 * length - 8))
    high = min((1 << high_bits) - 1, modulus >> (low_bits - 1), (1 << (8 * length)) - 1)
    return (low, high) if low <= high else None


def top_values(value_range: tuple[int, int], length: int) -> tuple[int, int]:
    """The range of the top two bytes of the `length`-byte numbers in `value_range`."""
    shift = 8 * length - 16
    return value_range[0] >> shift, value_range[1] >> shift


def sieve_limit(key_count: int) -> int:
    """The largest small prime worth sieving with, given how costly the exact test is.

    A sieve modulus costs about 7 ns per number (see SmallFactorSieve) and is
    worth it while it removes more than that share of the exact test's cost
    (0.4 us per number for one key, 2-5 us for ten, 13-15 us for a hundred;
    see DivisorTest).  Measured on the benchmark image with ten keys, limits of
    192 and 512 tie, 64 is 10 % slower and 1024 15 % slower.
    """
    if key_count <= 2:
        return 64
    if key_count <= 16:
        return 192
    return 512


def der_length(length: int) -> bytes:
    """X.690 8.1.3 definite length, shortest form."""
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


class FactorGroup:
    """The known moduli whose factors are `length` bytes long, and how to screen for them."""

    def __init__(self, length: int, moduli: Sequence[KnownModulus]) -> None:
        self.length = length
        self.moduli = tuple(moduli)
        ranges = [factor_range(m.modulus, length) for m in self.moduli]
        tops = [None if r is None else top_values(r, length) for r in ranges]
        self.screen = Screen(top_table_for_ranges([top for top in tops if top is not None]), True)
        self.max_zero_words = max_zero_words(length)
        self.sieve = SmallFactorSieve.for_primes(odd_primes(sieve_limit(len(self.moduli))))
        self.aligned = tuple(NumberShape(layout, length, align) for layout, align in ALIGNED_PLACES)
        self.unaligned_be = NumberShape(Layout.BE, length)
        self.weights = {
            shape: self.sieve.weights(shape) for shape in (*self.aligned, self.unaligned_be)
        }
        self.divisors = DivisorTest([m.modulus for m in self.moduli], tops)
        self.headers = self._integer_headers()

    def _integer_headers(self) -> tuple[bytes, ...]:
        """DER INTEGER headers of a `length`-byte positive number: with the zero byte
        (top bit set) and without it (top bit clear), as the admissible tops need."""
        tops = np.flatnonzero(self.screen.top_bytes)
        headers = []
        if (tops >= 0x80).any():
            headers.append(bytes([INTEGER_TAG]) + der_length(self.length + 1) + b"\x00")
        if (tops < 0x80).any():
            headers.append(bytes([INTEGER_TAG]) + der_length(self.length))
        return tuple(headers)


class RsaFactorSearch(ComponentSearch):
    name = DETECTOR
    max_length = MAX_FACTOR_BYTES + ASN1_HEADER_MAX

    def __init__(self, groups: Sequence[FactorGroup]) -> None:
        self.groups = tuple(groups)

    @classmethod
    def for_keys(
        cls, keys: Sequence[KnownPublicKey], config: SearchConfig
    ) -> RsaFactorSearch | None:
        by_length: dict[int, list[KnownModulus]] = {}
        for known in _rsa_moduli(keys):
            for length in factor_byte_lengths(known.bits):
                by_length.setdefault(length, []).append(known)
        if not by_length:
            return None
        return cls([FactorGroup(length, by_length[length]) for length in sorted(by_length)])

    def search(self, window: Window, memory: AddressSpace) -> Iterable[Candidate]:
        data: ByteArray = np.frombuffer(window.data, dtype=np.uint8)
        place = window_layout(window, memory)
        for group in self.groups:
            if len(data) >= group.length:  # a heap dump's small arrays hold no factor
                yield from _GroupScan(group, window, data, place).candidates()


def _rsa_moduli(keys: Sequence[KnownPublicKey]) -> Iterator[KnownModulus]:
    for key in keys:
        public_key = key.public_key
        if isinstance(public_key, rsa.RSAPublicKey):
            modulus = public_key.public_numbers().n
            if MIN_MODULUS_BITS <= modulus.bit_length() <= MAX_MODULUS_BITS:
                yield KnownModulus(key, modulus)


class _GroupScan:
    """One factor length over one window."""

    def __init__(
        self, group: FactorGroup, window: Window, data: ByteArray, place: WindowLayout
    ) -> None:
        self.group = group
        self.window = window
        self.data = data
        self.place = place
        self.owned = window.owned_end - window.start

    def candidates(self) -> Iterator[Candidate]:
        for shape, positions in self._screened():
            yield from self._tested(shape, positions)

    def _screened(self) -> Iterator[tuple[NumberShape, Offsets]]:
        group = self.group
        for shape in group.aligned:
            first = self.place.first_aligned(self.window.start, shape.alignment)
            first, count = aligned_range(first, shape.alignment, self._end(shape))
            yield shape, screen_aligned(self.data, shape, first, count, group.screen)
        shape = group.unaligned_be
        positions = self._header_positions()
        yield shape, screen_offsets(self.data, shape, positions, group.screen)

    def _end(self, shape: NumberShape) -> int:
        """Positions below this are owned and leave the whole number in the window."""
        return min(self.owned, len(self.data) - shape.span + 1)

    def _header_positions(self) -> Offsets:
        """Numbers right after an INTEGER header, not already on the aligned big-endian pass.

        The first ASN1_HEADER_MAX positions of the window are taken as they are:
        their header would lie before the window, in the previous chunk, which does
        not own them (a chunk never reads backwards).  Only a real factor passes the
        exact test, so this finds such a remnant once without reporting anything
        that is not a factor.
        """
        end = self._end(self.group.unaligned_be)
        found = set(range(min(ASN1_HEADER_MAX, end)))
        data = self.window.data
        for header in self.group.headers:
            at = data.find(header, 0, end)
            while at >= 0:
                found.add(at + len(header))
                at = data.find(header, at + 1, end)
        be_first = self.place.first_aligned(self.window.start, 8)
        positions = [p for p in found if p < end and (p - be_first) % 8]
        return np.array(sorted(positions), dtype=np.intp)

    def _tested(self, shape: NumberShape, positions: Offsets) -> Iterator[Candidate]:
        group = self.group
        rows = stored_rows(self.data, shape, positions)
        plausible = group.sieve.passes(rows, shape, group.weights[shape])
        plausible[plausible] = zero_word_counts(rows[plausible]) <= group.max_zero_words
        numbers = canonical_rows(rows[plausible], shape)
        kept = positions[plausible]
        for row, modulus_index in group.divisors.matches(numbers):
            yield self._candidate(shape, int(kept[row]), numbers[row], modulus_index)

    def _candidate(
        self, shape: NumberShape, position: int, number: ByteArray, modulus_index: int
    ) -> Candidate:
        known = self.group.moduli[modulus_index].key
        payload = Payload(PayloadKind.RSA_FACTOR, number.tobytes(), public_spki=known.spki)
        return Candidate(
            DETECTOR, shape.layout.value, self.window.start + position, shape.span, payload
        )
