"""The exact test after the prefilters: which known moduli a candidate number divides.

Measured on the development VM (AMD EPYC, one core, process time; 1024-bit
candidates with admissible tops, 2048-bit moduli; microseconds per candidate,
including the conversion from bytes; the VM's speed varies by up to 2x
between runs, the ratios hold):

=====  ============  =====================  =======================
K      K divisions   divisions by top bits  product accumulation
=====  ============  =====================  =======================
1      0.4 - 0.7     0.7 - 1.2              1.5 - 2.7
10     1.9 - 3.7     2.0 - 3.4              4.4 - 7.3
50     -             7.9 - 9.9              10.4 - 12.1
100    17            14.2 - 15.0            11.5 - 13.4
200    -             28 - 35                19
400    -             57 - 59                27 - 43
=====  ============  =====================  =======================

* K divisions: gmpy2.is_divisible(n_i, v) for each modulus; GMP's exact-division
  test of a 32-limb number by a 16-limb one is about 0.1 us, plus the call.
* by top bits: a factor v of n with a balanced cofactor lies in
  (n / 2**ceil(b/2), n / 2**(floor(b/2) - 1)], so the top 16 bits of v already
  exclude the moduli whose range does not hold them (40 % of the pairs for
  keys made by OpenSSL).  A table from the top 16 bits to the moduli left is
  built once.
* accumulation: Z = product of the candidates mod N, N the product of the
  moduli, the candidates multiplied in balanced trees of 2K at a time (so each
  product is about as long as N).  A known modulus has no factor but its two
  primes, so gcd(Z, N) > 1 exactly when some candidate shares a prime with a
  modulus; only then are the candidates divided one by one.  Its cost grows
  with that of multiplying numbers of N's size (GMP's Toom and FFT
  multiplication), far slower than K: it wins from about 90 moduli on.

A single product test, gmpy2.is_divisible(N, v), does one long division
instead of K short ones: 2.1 us at K = 10 and 19 us at K = 100, no faster than
K divisions, so it is not used.  Barrett reduction of Z*P mod N (two products
instead of GMP's division) saves 25 % of the reduction, 10 % of the whole: not
worth its code.

A remainder tree (the textbook way to make the cost per candidate grow more
slowly than K: multiply the candidates up a tree to N's size, reduce N down it,
a leaf divides N when its remainder is 0) was measured too, on 20,000
candidates in one run beside K divisions: 1.4 us against 0.4 at K = 1, 4.6
against 3.2 at K = 10, 20 against 32 at K = 100 (best group size, 256).  It
loses to accumulation at K = 100 because GMP's division at these sizes is still
near-quadratic: reducing a 2s-bit number by an s-bit one costs 0.7 us per
1024 bits of s at s = 1024 and 9 us per 1024 bits at s = 204,800.  So it is
not used.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import gmpy2
import numpy as np
import numpy.typing as npt

from scanner.detectors.components.prefilter import TOP_VALUES, ByteArray

# A GMP integer: gmpy2 has no type information, so its values are Any.
Mpz = Any

# From this many moduli on, accumulation beats divisions by top bits (measured: ~90).
ACCUMULATE_MIN_MODULI = 96


class DivisorTest:
    """Tests numbers (canonical big-endian rows) against fixed moduli.

    top_ranges[i]: the inclusive range of the top 16 bits of the factors of
    moduli[i] at the tested length (None: it has none of that length).
    accumulates: the strategy; by default accumulation from ACCUMULATE_MIN_MODULI on.
    """

    def __init__(
        self,
        moduli: Sequence[int],
        top_ranges: Sequence[tuple[int, int] | None],
        accumulates: bool | None = None,
    ) -> None:
        self._moduli = [gmpy2.mpz(modulus) for modulus in moduli]
        self._product = gmpy2.mpz(math.prod(moduli))
        self._batch = 2 * len(moduli)
        self._subsets, self._subset_of_top = _subsets_by_top(top_ranges)
        if accumulates is None:
            accumulates = len(moduli) >= ACCUMULATE_MIN_MODULI
        self.accumulates = accumulates

    def matches(self, numbers: ByteArray) -> list[tuple[int, int]]:
        """(row, modulus index) for every row that divides a modulus."""
        if len(numbers) == 0:
            return []
        values = _values(numbers)
        if self.accumulates and not self._some_share_a_factor(values):
            return []
        tops = (numbers[:, 0].astype(np.intp) << 8) | numbers[:, 1]
        return self._divided(values, self._subset_of_top[tops].tolist())

    def _divided(self, values: Sequence[Mpz], subsets: Sequence[int]) -> list[tuple[int, int]]:
        is_divisible, moduli = gmpy2.is_divisible, self._moduli
        return [
            (row, index)
            for row, (value, subset) in enumerate(zip(values, subsets, strict=True))
            for index in self._subsets[subset]
            if is_divisible(moduli[index], value)
        ]

    def _some_share_a_factor(self, values: Sequence[Mpz]) -> bool:
        accumulated = gmpy2.mpz(1)
        for start in range(0, len(values), self._batch):
            batch = _tree_product(values[start : start + self._batch])
            accumulated = accumulated * batch % self._product
        return bool(gmpy2.gcd(accumulated, self._product) != 1)


def _subsets_by_top(
    top_ranges: Sequence[tuple[int, int] | None],
) -> tuple[list[tuple[int, ...]], npt.NDArray[np.intp]]:
    """The distinct sets of moduli a top value admits, and each top value's set."""
    edges = sorted(
        {0, TOP_VALUES} | {edge for r in top_ranges if r is not None for edge in (r[0], r[1] + 1)}
    )
    numbered: dict[tuple[int, ...], int] = {}
    subset_of_top = np.zeros(TOP_VALUES, dtype=np.intp)
    for low, high in itertools.pairwise(edges):
        members = tuple(
            index
            for index, r in enumerate(top_ranges)
            if r is not None and r[0] <= low and high - 1 <= r[1]
        )
        subset_of_top[low:high] = numbered.setdefault(members, len(numbered))
    return list(numbered), subset_of_top


def _values(numbers: ByteArray) -> list[Mpz]:
    """Each row as a GMP integer (rows are big-endian bytes)."""
    length = numbers.shape[1]
    blob = numbers.tobytes()
    from_bytes = gmpy2.mpz.from_bytes
    return [from_bytes(blob[at : at + length], "big") for at in range(0, len(blob), length)]


def _tree_product(values: Sequence[Mpz]) -> Mpz:
    """The product of `values`, multiplied pairwise so that the factors stay balanced."""
    level = list(values)
    if not level:
        return gmpy2.mpz(1)
    while len(level) > 1:
        paired = [level[i] * level[i + 1] for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]
