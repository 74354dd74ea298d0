"""Byte statistics that tell a secret number from ordinary memory, before any curve arithmetic.

A private scalar or seed is uniformly random bytes (or nearly: the top byte
of a P-521 scalar is 0 or 1).  Memory around it mostly is not: zero pages,
pointers (two zero bytes in every 64-bit word), ASCII and UTF-16 text, fill
patterns (0xCD..., 0xDEADBEEF...).  A window of n bytes is rejected when

* more than n/8 of its bytes are zero,
* every byte is below 0x80 (text, small integers),
* more than n/8 bytes equal the byte before them (runs, 0xCDCD fills), or
* more than n/8 bytes equal the byte 8 before them (any fill with a period
  dividing 8, such as a repeated 64-bit word).

False negatives (a real key rejected), for uniform bytes, each byte zero or
equal to another given byte with probability 1/256 (see `rejection_bound`):
below 4e-7 for 32 bytes, below 2e-9 for 48, 56, 57 and 66 bytes.  The checks
are the same whatever the byte order, so little- and big-endian copies of a
number pass or fail together.  tests/detectors/test_ec_scalar.py checks them
on real keys made by OpenSSL, cryptography, Java and Node.js.

`random_windows` runs the checks on every 8-byte-aligned window of a buffer
at once: per-8-byte-block counts (one multiply per 64-bit word adds up its
eight 0/1 bytes), prefix sums over blocks, and the few bytes of a width that
is not a multiple of 8.  About 1 GB/s; `looks_random` is the same test on
one byte string, in plain Python (numpy's set-up costs more for 32 bytes).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

ByteArray = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]
Counts = npt.NDArray[np.int64]

BLOCK = 8  # windows start every BLOCK bytes
# Multiplying a 64-bit word of 0/1 bytes by this leaves their sum in the top byte.
_BYTE_SUM = np.uint64(0x0101010101010101)
_TOP_BYTE_SHIFT = np.uint64(56)

# A statistic may be at most one in eight of the window's bytes.
TOLERATED_FRACTION_DENOMINATOR = 8


def tolerated(width: int) -> int:
    return width // TOLERATED_FRACTION_DENOMINATOR


def looks_random(value: bytes) -> bool:
    """The checks of this module on one byte string (a number found in a structure)."""
    if not value:
        return False
    limit = tolerated(len(value))
    if value.count(0) > limit or max(value) < 0x80:
        return False
    return _equal_at_lag(value, 1) <= limit and _equal_at_lag(value, 8) <= limit


def _equal_at_lag(value: bytes, lag: int) -> int:
    """How many bytes equal the byte `lag` places before them."""
    return sum(1 for before, byte in zip(value, value[lag:], strict=False) if before == byte)


def random_windows(data: ByteArray, first: int, count: int, width: int) -> Mask:
    """For j < count, whether data[first + 8j : first + 8j + width] passes every check.

    The last window must lie inside `data`.
    """
    if count <= 0 or width <= 0:
        return np.zeros(max(count, 0), dtype=np.bool_)
    span = data[first : first + BLOCK * (count - 1) + width]
    limit = tolerated(width)
    zeros = _window_counts(span == 0, count, width)
    high = _window_counts(span >= 0x80, count, width)
    repeats = _window_counts(span[1:] == span[:-1], count, width - 1)
    period_8 = _window_counts(span[8:] == span[:-8], count, width - 8)
    return (zeros <= limit) & (high > 0) & (repeats <= limit) & (period_8 <= limit)


def random_starts(data: ByteArray, first: int, end: int, width: int) -> list[int]:
    """Starts first, first + 8, ... below `end` whose `width` bytes lie in `data` and pass."""
    last = min(end, len(data) - width + 1)
    count = max(0, -(-(last - first) // BLOCK))
    passed = np.flatnonzero(random_windows(data, first, count, width))
    starts: list[int] = (first + BLOCK * passed).tolist()
    return starts


def _window_counts(flags: Mask, count: int, width: int) -> Counts:
    """For j < count, how many of flags[8j : 8j + width] are set."""
    if width <= 0:
        return np.zeros(count, dtype=np.int64)
    whole, rest = divmod(width, BLOCK)
    prefix = _block_prefix(flags)
    counts: Counts = prefix[whole : whole + count] - prefix[:count]
    for extra in range(rest):
        counts += flags[BLOCK * whole + extra :: BLOCK][:count]
    return counts


def _block_prefix(flags: Mask) -> Counts:
    """prefix[k]: set flags in the first k blocks of 8 (a short last block counts as one)."""
    whole = len(flags) // BLOCK * BLOCK
    words = flags[:whole].view(np.uint64)
    sums = (words * _BYTE_SUM) >> _TOP_BYTE_SHIFT
    prefix = np.zeros(len(sums) + 2, dtype=np.int64)
    # cumsum in the input's own dtype, then one cast: cumsum straight into int64 was 10x slower.
    prefix[1 : len(sums) + 1] = np.cumsum(sums)
    prefix[-1] = prefix[-2] + np.count_nonzero(flags[whole:])
    return prefix


def rejection_bound(width: int) -> float:
    """Upper bound on the chance that uniform random bytes fail a check (union bound).

    Each count check fails when more than width/8 of m independent events of
    probability 1/256 happen (m = width, width - 1, width - 8); every byte
    below 0x80 has probability 2^-width.
    """
    limit = tolerated(width)
    bound = 0.5**width
    for events in (width, width - 1, width - 8):
        bound += _binomial_tail(events, limit + 1, 1 / 256)
    return bound


def _binomial_tail(events: int, at_least: int, probability: float) -> float:
    return sum(
        math.comb(events, count) * probability**count * (1 - probability) ** (events - count)
        for count in range(max(at_least, 0), events + 1)
    )
