"""OpenSSL BIGNUM descriptors: find `struct bignum_st` in a window and read the number it holds.

crypto/bn/bn_local.h (OpenSSL 1.1 and 3.x):

    struct bignum_st { BN_ULONG *d; int top; int dmax; int neg; int flags; };

64-bit builds (x86-64, aarch64, any LP64 little-endian): 8-byte pointer,
64-bit limbs, 24 bytes aligned to 8.  32-bit builds: 4-byte pointer, 32-bit
limbs, 20 bytes aligned to 4.  `d` points at `top` limbs, least significant
first, each limb little-endian; `dmax` is the allocated limb count.  A
descriptor is taken when

* top is one of the limb counts asked for (the caller allows one fewer for a
  number whose top limb is zero),
* top <= dmax <= MAX_DMAX (buffers are sized to the numbers they hold),
* neg is 0 or 1,
* flags uses only BN_FLG_MALLOCED 1, STATIC_DATA 2, CONSTTIME 4, SECURE 8
  (and BN_FLG_FIXED_TOP 0x10000 of BN_DEBUG builds),
* d is aligned to the limb size and the `top` limbs it points at were dumped.

The scan is vectorised: a numpy view of the window as 32-bit words finds the
(top, dmax, neg, flags) shape first, which few positions have (about one per
MB of a real process dump); only those positions' pointers are followed,
through the dump's `AddressSpace`.  Big-endian hosts (s390x, ppc64) are not
covered: their limbs and fields would need the other byte order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from scanner.detectors.base import Window
from scanner.detectors.components.base import AddressSpace
from scanner.detectors.components.layout import WindowLayout

MAX_DMAX = 1024
ALLOWED_FLAGS = 0x1000F
Words = npt.NDArray[np.uint32]
Indices = npt.NDArray[np.intp]


@dataclass(frozen=True)
class DescriptorLayout:
    """One ABI's bignum_st: pointer size (= limb size) and struct size, in bytes."""

    pointer_size: int
    size: int
    encoding: str

    @property
    def words_before_top(self) -> int:
        return self.pointer_size // 4


LP64 = DescriptorLayout(8, 24, "bignum-le")
ILP32 = DescriptorLayout(4, 20, "bignum32-le")


@dataclass(frozen=True)
class Bignum:
    """A descriptor found in a window, and the number its limbs hold.

    offset: file offset of the descriptor; limbs_address: virtual address of d.
    """

    offset: int
    layout: DescriptorLayout
    limbs_address: int
    top: int
    value: int = field(repr=False)


def limb_counts(bits: int, limb_bits: int) -> frozenset[int]:
    """The `top` a number of `bits` bits has, or one fewer (its top limb zero)."""
    limbs = -(-bits // limb_bits)
    return frozenset({limbs, limbs - 1} - {0})


def descriptor_layout(layout: WindowLayout) -> DescriptorLayout:
    return LP64 if layout.pointer_size == 8 else ILP32


def find_bignums(
    window: Window, memory: AddressSpace, layout: WindowLayout, value_bits: Sequence[int]
) -> Iterator[Bignum]:
    """Descriptors whose first byte the window owns, holding numbers of the given sizes."""
    if layout.address is None:
        return  # a raw file has no addresses: nothing to follow
    abi = descriptor_layout(layout)
    tops = frozenset().union(*(limb_counts(bits, abi.pointer_size * 8) for bits in value_bits))
    first = layout.first_aligned(window.start, abi.pointer_size)
    words = _words(window.data, first)
    for index in _descriptor_shapes(words, abi, tops):
        position = first + 4 * int(index)
        if window.start + position >= window.owned_end:
            break
        bignum = _read_bignum(words, int(index), window.start + position, abi, memory)
        if bignum is not None:
            yield bignum


def _words(data: bytes, first: int) -> Words:
    count = max(0, (len(data) - first) // 4)
    return np.frombuffer(data, dtype="<u4", count=count, offset=min(first, len(data)))


def _descriptor_shapes(words: Words, abi: DescriptorLayout, tops: frozenset[int]) -> Indices:
    """Word indices (aligned to the descriptor) where top, dmax, neg and flags fit."""
    step = abi.pointer_size // 4
    top_at = abi.words_before_top
    last = len(words) - (top_at + 4) + 1  # the descriptor's last word must be in the window
    if last <= 0 or not tops:
        return np.zeros(0, dtype=np.intp)
    low, high = min(tops), max(tops)
    top = words[top_at : top_at + last : step]
    starts = np.flatnonzero((top - np.uint32(low)) <= np.uint32(high - low)) * step
    top = words[starts + top_at]
    dmax = words[starts + top_at + 1]
    neg = words[starts + top_at + 2]
    flags = words[starts + top_at + 3]
    fits = np.isin(top, list(tops)) & (dmax >= top) & (dmax <= MAX_DMAX)
    fits &= (neg <= 1) & ((flags & np.uint32(~ALLOWED_FLAGS & 0xFFFFFFFF)) == 0)
    return starts[fits]


def _read_bignum(
    words: Words, index: int, offset: int, abi: DescriptorLayout, memory: AddressSpace
) -> Bignum | None:
    pointer = int(words[index])
    if abi.pointer_size == 8:
        pointer |= int(words[index + 1]) << 32
    top = int(words[index + abi.words_before_top])
    if pointer % abi.pointer_size:
        return None
    limbs = memory.read(pointer, top * abi.pointer_size)
    if limbs is None:
        return None
    return Bignum(offset, abi, pointer, top, int.from_bytes(limbs, "little"))
