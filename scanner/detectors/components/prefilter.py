"""Vectorised prefilters: which positions of a window can hold a secret number of a given shape.

A number of L bytes lies in memory in one of three layouts (`Layout`):

* ``be``: big-endian bytes (BN_bn2bin output, DER INTEGER contents, Java toByteArray);
* ``le``: little-endian bytes, i.e. a limb array least significant limb first on a
  little-endian host (OpenSSL BIGNUM d[], Go big.nat, .NET BigInteger _bits), whatever
  the limb size;
* ``be32-words-le``: 32-bit words, most significant word first, each word little-endian
  (the JVM's BigInteger int[] mag on x86-64 and arm64).

`NumberShape` maps byte k of the number's canonical big-endian form (k = 0 most
significant) to its offset in the stored span, so every filter below is the same
code for every layout.  The filters run over all positions of a window at once,
cheapest and most selective first, before any big-number arithmetic:

1. `screen_aligned` / `screen_offsets` with a `Screen`: the top two bytes are in a
   caller's table of 65536 admissible values (a range the key fixes), the lowest
   bit is set when the number must be odd, and padding bytes are zero.  Strided
   views of the window: no copy.  On text (bytes below 0x80), pointer words (zero
   top bytes) and zero pages nearly nothing passes.
2. `stored_rows`: copies the survivors' stored bytes (one fancy index of a
   sliding-window view).
3. `SmallFactorSieve`: residues modulo products of small primes, for numbers that
   must be prime: one float64 matrix product of 32- or 16-bit digits by
   precomputed weights (exact, see the class), then a table lookup per modulus.
   The first modulus runs alone and the others on what it leaves.  Why not
   prefix sums of limb residues over the whole window and np.gcd: after step 1
   only about 7 % of the positions remain, so work per survivor beats work per
   limb, and np.gcd and np.fmod cost 60-70 ns an element where a table lookup
   costs 1-2 (measured on the benchmark image).
4. `max_zero_words` / `zero_word_counts`: a uniform random number of L bytes
   holds a zero 32-bit word with probability L/4 * 2**-32; more than
   `max_zero_words(L)` (one for every size here: uniform bytes hold two with
   probability below 2**-48) rejects structured memory that passed the other
   steps by chance: pointer words (a zero high half in every small integer),
   a window half on a zero page.  Zero words catch what zero bytes catch on
   such memory (measured: the same 14.7 % of the screened positions of the
   benchmark image) at half the cost.

A filter may only reject what the caller's number cannot be: steps 1 and 3 hold
for every prime in the caller's range (no prime above the sieve's has a factor
in it), step 4 for all but the fraction documented there; tests check every step
on real keys of several generators.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

ByteArray = npt.NDArray[np.uint8]
Offsets = npt.NDArray[np.intp]
Mask = npt.NDArray[np.bool_]

TOP_VALUES = 1 << 16  # admissible-top tables are indexed by the top two bytes

# Uniform random bytes exceed the zero-word bound with probability below this.
ZERO_WORDS_FALSE_NEGATIVE = 2.0**-40

# Rows per block of the sieve's matrix product: the float64 digits of one block
# (2048 x 64 x 8 bytes for a 1024-bit number) stay in the L2 cache.
SIEVE_BLOCK_ROWS = 2048
# The sieve's first modulus (3*5*7*11*13) runs alone: it removes 62 % of odd
# numbers, so the other moduli run on the remaining 38 % only.
SIEVE_FIRST_STAGE = 1


class Layout(enum.Enum):
    """How a number's bytes are ordered in memory; the value is the reported encoding."""

    BE = "be"
    LE = "le"
    BE32_WORDS_LE = "be32-words-le"


@dataclass(frozen=True)
class NumberShape:
    """A number of `length` bytes stored in `layout`, at positions aligned to `alignment`."""

    layout: Layout
    length: int
    alignment: int = 1

    @cached_property
    def span(self) -> int:
        """Bytes the stored number covers: whole 32-bit words for be32-words-le."""
        if self.layout is Layout.BE32_WORDS_LE:
            return 4 * -(-self.length // 4)
        return self.length

    @cached_property
    def order(self) -> Offsets:
        """order[k]: offset in the stored span of canonical big-endian byte k."""
        k = np.arange(self.length, dtype=np.intp)
        if self.layout is Layout.BE:
            return k
        if self.layout is Layout.LE:
            return self.length - 1 - k
        padded = k + (self.span - self.length)  # the top word's unused high bytes come first
        return 4 * (padded // 4) + 3 - padded % 4

    @cached_property
    def padding(self) -> Offsets:
        """Offsets in the span that hold no byte of the number (must be zero)."""
        used = np.zeros(self.span, dtype=np.bool_)
        used[self.order] = True
        return np.flatnonzero(~used)

    @cached_property
    def significance(self) -> npt.NDArray[np.int64]:
        """significance[offset]: the power of 256 the byte stored at `offset` weighs.

        -1 for padding.
        """
        weights = np.full(self.span, -1, dtype=np.int64)
        weights[self.order] = self.length - 1 - np.arange(self.length)
        return weights


def aligned_range(first: int, alignment: int, end: int) -> tuple[int, int]:
    """(first, count) of the positions first, first + alignment, ... below `end`."""
    if end <= first:
        return first, 0
    return first, (end - first + alignment - 1) // alignment


def _strided(data: ByteArray, offset: int, step: int, count: int) -> ByteArray:
    return data[offset : offset + step * (count - 1) + 1 : step]


@dataclass(frozen=True)
class Screen:
    """What the first pass asks of a number: its top two bytes in `top_table`
    (65536 flags, indexed by the big-endian value of the top two bytes), and
    its lowest bit set when `odd`."""

    top_table: Mask = field(repr=False)
    odd: bool

    @cached_property
    def top_bytes(self) -> Mask:
        """Top bytes for which some admissible 16-bit top value exists."""
        flags: Mask = np.any(self.top_table.reshape(256, 256), axis=1)
        return flags

    @cached_property
    def top_byte_range(self) -> tuple[int, int] | None:
        """[low, high] when the admissible top bytes are one range (the usual case)."""
        admitted = np.flatnonzero(self.top_bytes)
        if len(admitted) == 0 or admitted[-1] - admitted[0] + 1 != len(admitted):
            return None
        return int(admitted[0]), int(admitted[-1])

    def top_byte_passes(self, top: ByteArray) -> Mask:
        """Whether each top byte may start an admissible number.

        A range is two comparisons, three times faster than a table lookup over
        a whole window.
        """
        if self.top_byte_range is None:
            flags: Mask = self.top_bytes[top]
            return flags
        low, high = self.top_byte_range
        passed: Mask = np.greater_equal(top, low)
        if high < 0xFF:
            passed &= np.less_equal(top, high)
        return passed


def screen_aligned(
    data: ByteArray, shape: NumberShape, first: int, count: int, screen: Screen
) -> Offsets:
    """Positions first + alignment*j (j < count) whose number passes the screen.

    Every position must leave `shape.span` bytes in `data`.
    """
    if count <= 0:
        return np.zeros(0, dtype=np.intp)
    step = shape.alignment
    # The top byte first: it rejects most positions without building 16-bit values.
    passed = screen.top_byte_passes(_strided(data, first + int(shape.order[0]), step, count))
    if screen.odd:
        lowest = _strided(data, first + int(shape.order[-1]), step, count)
        passed &= (lowest & 1).view(np.bool_)
    positions: Offsets = first + step * np.flatnonzero(passed)
    return _finish_screen(data, shape, positions, screen)


def screen_offsets(
    data: ByteArray, shape: NumberShape, positions: Offsets, screen: Screen
) -> Offsets:
    """The positions (each leaving `shape.span` bytes) whose number passes the screen."""
    if len(positions) == 0:
        return np.zeros(0, dtype=np.intp)
    passed = screen.top_byte_passes(data[positions + int(shape.order[0])])
    if screen.odd:
        passed &= (data[positions + int(shape.order[-1])] & 1).view(np.bool_)
    return _finish_screen(data, shape, positions[passed], screen)


def _finish_screen(
    data: ByteArray, shape: NumberShape, positions: Offsets, screen: Screen
) -> Offsets:
    """The 16-bit top test and the padding test, on the few positions left."""
    high = data[positions + int(shape.order[0])].astype(np.intp) << 8
    passed: Mask = screen.top_table[high | data[positions + int(shape.order[1])]]
    for offset in shape.padding:
        passed &= data[positions + int(offset)] == 0
    kept: Offsets = positions[passed]
    return kept


def top_table_for_ranges(ranges: Sequence[tuple[int, int]]) -> Mask:
    """A table admitting every top value in the inclusive ranges [low, high]."""
    table = np.zeros(TOP_VALUES, dtype=np.bool_)
    for low, high in ranges:
        table[max(low, 0) : min(high, TOP_VALUES - 1) + 1] = True
    return table


def stored_rows(data: ByteArray, shape: NumberShape, positions: Offsets) -> ByteArray:
    """The stored spans at `positions`, one row each (a copy)."""
    if len(positions) == 0:
        return np.zeros((0, shape.span), dtype=np.uint8)
    rows: ByteArray = sliding_window_view(data, shape.span)[positions]
    return rows


def canonical_rows(rows: ByteArray, shape: NumberShape) -> ByteArray:
    """Each stored row as the number's big-endian bytes.

    Reversed views where the layout allows (ten times faster than gathering
    columns); a gather by `shape.order` for words with padding.
    """
    if shape.layout is Layout.BE:
        reordered = rows
    elif shape.layout is Layout.LE:
        reordered = rows[:, ::-1]
    elif shape.span == shape.length:
        words = rows.reshape(len(rows), shape.span // 4, 4)
        reordered = words[:, :, ::-1].reshape(len(rows), shape.span)
    else:
        reordered = rows[:, shape.order]
    canonical: ByteArray = np.ascontiguousarray(reordered)
    return canonical


def max_zero_words(length: int) -> int:
    """The most zero 32-bit words uniform random `length` bytes hold, but for 2**-40.

    One for every length up to 1024 bytes: two zero words among 256 have
    probability at most C(256, 2) * 2**-64 < 2**-48.
    """
    words = length // 4
    probability = 2.0**-32
    tail = 0.0
    for count in range(words, -1, -1):
        tail += math.comb(words, count) * probability**count
        if tail >= ZERO_WORDS_FALSE_NEGATIVE:
            return count
    return words


def zero_word_counts(rows: ByteArray) -> npt.NDArray[np.intp]:
    """Zero 32-bit words in each row, on the row's own 4-byte grid (whole words only)."""
    whole = rows.shape[1] // 4 * 4
    words = np.ascontiguousarray(rows[:, :whole]).view(np.uint32)
    counts: npt.NDArray[np.intp] = np.count_nonzero(words == 0, axis=1)
    return counts


def odd_primes(limit: int) -> list[int]:
    """Primes 3 <= p <= limit (a sieve of Eratosthenes)."""
    flags = np.ones(limit + 1, dtype=np.bool_)
    flags[:2] = False
    for value in range(2, math.isqrt(limit) + 1):
        if flags[value]:
            flags[value * value :: value] = False
    return [int(p) for p in np.flatnonzero(flags) if p > 2]


def pack_moduli(primes: Sequence[int], bound: int) -> list[tuple[int, ...]]:
    """Consecutive primes grouped so that each group's product stays below `bound`."""
    groups: list[tuple[int, ...]] = []
    current: list[int] = []
    for prime in primes:
        if current and math.prod(current) * prime >= bound:
            groups.append(tuple(current))
            current = []
        current.append(prime)
    if current:
        groups.append(tuple(current))
    return groups


@dataclass(frozen=True)
class SmallFactorSieve:
    """Rejects numbers with a prime factor among `groups` (each group's product < 2**16).

    Residues come from one matrix product per block of rows: the stored bytes,
    read as digits of `digit_bytes(shape)` bytes (little- or big-endian to follow
    the layout), times weights[d, m] = 256**significance(d) mod M_m.  Weights are
    below 2**16 and the digit width is the widest that keeps every sum below
    2**53, exact in float64 (32-bit digits up to 128 bytes, 16-bit beyond: 512
    digits of 1024 bytes sum below 2**41).  r = s - M*floor(s/M) is then within
    one M of the true residue either way (the reciprocal is rounded), which a
    table of 3*M entries per modulus absorbs.
    """

    groups: tuple[tuple[int, ...], ...]
    moduli: npt.NDArray[np.float64] = field(init=False, repr=False)
    reciprocals: npt.NDArray[np.float64] = field(init=False, repr=False)
    table: Mask = field(init=False, repr=False)
    table_base: npt.NDArray[np.int64] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        products = [math.prod(group) for group in self.groups]
        if any(product >= 1 << 16 for product in products):
            raise ValueError("every sieve modulus must stay below 2**16")
        moduli = np.array(products, dtype=np.float64)
        object.__setattr__(self, "moduli", moduli)
        object.__setattr__(self, "reciprocals", 1.0 / moduli)
        tables = [_coprime_table(group) for group in self.groups]
        bases = np.cumsum([0, *(len(t) for t in tables[:-1])]).astype(np.int64)
        # table index for residue r of modulus m: base[m] + r + M_m, with r in [-M_m, 2*M_m)
        object.__setattr__(self, "table", np.concatenate(tables))
        object.__setattr__(self, "table_base", bases + np.array(products, dtype=np.int64))

    @classmethod
    def for_primes(cls, primes: Sequence[int]) -> SmallFactorSieve:
        return cls(tuple(pack_moduli(primes, 1 << 16)))

    @property
    def primes(self) -> list[int]:
        return [prime for group in self.groups for prime in group]

    def weights(self, shape: NumberShape) -> npt.NDArray[np.float64]:
        """weights[d, m] for the digits of `shape`'s stored span."""
        # A digit weighs what its least significant byte weighs: the first byte of a
        # little-endian digit, the last of a big-endian one (-1: padding, weight 0).
        width = digit_bytes(shape)
        lowest = width - 1 if shape.layout is Layout.BE else 0
        significance = shape.significance.reshape(-1, width)[:, lowest]
        weights = np.zeros((len(significance), len(self.groups)), dtype=np.float64)
        for column, group in enumerate(self.groups):
            modulus = math.prod(group)
            for row, power in enumerate(significance):
                weights[row, column] = 0 if power < 0 else pow(256, int(power), modulus)
        return weights

    def passes(self, rows: ByteArray, shape: NumberShape, weights: npt.NDArray[np.float64]) -> Mask:
        """For each stored row, whether the number has no factor in the sieve."""
        digits = _digits(rows, shape)
        result = self._passes(digits, weights, slice(0, SIEVE_FIRST_STAGE))
        rest = slice(SIEVE_FIRST_STAGE, len(self.groups))
        if rest.start < rest.stop:
            result[result] = self._passes(digits[result], weights, rest)
        return result

    def _passes(
        self, digits: npt.NDArray[np.generic], weights: npt.NDArray[np.float64], moduli: slice
    ) -> Mask:
        result = np.ones(len(digits), dtype=np.bool_)
        weights = np.ascontiguousarray(weights[:, moduli])
        reciprocals, modulus = self.reciprocals[moduli], self.moduli[moduli]
        base = self.table_base[moduli]
        for start in range(0, len(digits), SIEVE_BLOCK_ROWS):
            block = digits[start : start + SIEVE_BLOCK_ROWS].astype(np.float64)
            sums = block @ weights
            quotients = np.floor(sums * reciprocals)
            residues = (sums - quotients * modulus).astype(np.int64)
            result[start : start + SIEVE_BLOCK_ROWS] = self.table[residues + base].all(axis=1)
        return result


def _coprime_table(group: tuple[int, ...]) -> Mask:
    """coprime[r + M] for r in [-M, 2M): whether r mod M has no factor in `group`."""
    modulus = math.prod(group)
    residues = np.arange(-modulus, 2 * modulus) % modulus
    coprime = np.ones(3 * modulus, dtype=np.bool_)
    for prime in group:
        coprime &= residues % prime != 0
    return coprime


def digit_bytes(shape: NumberShape) -> int:
    """The widest digit (4, 2 or 1 bytes) dividing the span whose weighted sums stay exact.

    A sum is at most digits * (256**width - 1) * (2**16 - 1): below 2**53 it is
    an exact float64 integer.  Fewer, wider digits halve the conversions and
    the matrix product.
    """
    for width in (4, 2, 1):
        digits = shape.span // width
        exact = digits * (256**width - 1) * ((1 << 16) - 1) < 1 << 53
        if shape.span % width == 0 and exact:
            return width
    return 1


def _digits(rows: ByteArray, shape: NumberShape) -> npt.NDArray[np.generic]:
    """The stored bytes as digits in the layout's byte order (see digit_bytes)."""
    width = digit_bytes(shape)
    if width == 1:
        return rows
    dtype = (">u" if shape.layout is Layout.BE else "<u") + str(width)
    digits: npt.NDArray[np.generic] = np.ascontiguousarray(rows).view(dtype)
    return digits
