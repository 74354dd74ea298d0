"""Known-key component search: finding keys that exist only as raw numbers.

A live process keeps its key as numbers (OpenSSL BIGNUM limbs, JVM BigInteger
words, bare Ed25519 seeds), with no PEM or DER anywhere.  Given the public keys
the user knows (--known-keys), a `ComponentSearch` looks for the private
component that belongs to one of them: a prime factor of a known RSA modulus,
the scalar of a known EC point, the seed of a known Ed25519 key.  It hands each
hit to the prover as a Payload carrying the known key's SubjectPublicKeyInfo,
and the prover rebuilds the key and proves it with a signature.

Searches run inside the chunk driver (`scanner.detectors.scan`) on the same
windows as the YARA pass and honour the same overlap contract (see
`scanner.detectors.base`): a component is reported only by the chunk whose
owned range holds its first byte, and `max_length` (the longest component a
search reads forward from a position) is part of the chunk overlap, so a number
that crosses a chunk edge lies whole in the window of the chunk that owns it.
Searches that follow pointers read through `AddressSpace`, which maps virtual
addresses to file offsets and never joins regions that are not contiguous in
memory.
"""

from __future__ import annotations

import abc
import bisect
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from scanner.detectors.base import Candidate, Window
from scanner.formats.base import Region
from scanner.keys.base import KnownKey


@dataclass(frozen=True)
class SearchConfig:
    """Options of the component searches (from ScanConfig).

    deep: also run the bounded brute-force passes (every aligned window tried as
    an EC scalar or a seed), up to `wide_budget` tests per chunk.  A P-256 test
    costs ~35 us, so the default bounds one 16 MiB chunk to a few seconds.
    """

    deep: bool = False
    wide_budget: int = 100_000


@dataclass(frozen=True)
class KnownPublicKey:
    """A known key as the searches use it: the key object and its SPKI DER."""

    known: KnownKey
    public_key: PublicKeyTypes = field(repr=False)
    spki: bytes = field(repr=False)


class AddressSpace:
    """Reads a dump's memory by virtual address, region by region.

    A read is served only from one run of regions that are contiguous both in
    the address space and in the file; anything else (unmapped, or crossing
    into a region that is not the next one in memory) gives None.
    """

    def __init__(self, fd: int, regions: Sequence[Region]) -> None:
        self._fd = fd
        mapped = sorted(
            (r for r in regions if r.address is not None and r.size > 0),
            key=lambda r: r.address or 0,
        )
        self._regions = mapped
        self._starts = [r.address or 0 for r in mapped]
        self._by_file = sorted(mapped, key=lambda r: r.file_offset)
        self._file_starts = [r.file_offset for r in self._by_file]
        # Computed once: searches ask per window, and a heap dump has 10^5-10^6 regions.
        self.highest_address = max(((r.address or 0) + r.size for r in mapped), default=None)

    @property
    def regions(self) -> tuple[Region, ...]:
        """The regions that have addresses, in address order."""
        return tuple(self._regions)

    def address_of(self, file_offset: int) -> int | None:
        """The virtual address of a file offset, None outside every addressed region."""
        index = bisect.bisect_right(self._file_starts, file_offset) - 1
        if index < 0 or file_offset >= self._by_file[index].file_end:
            return None
        region = self._by_file[index]
        return (region.address or 0) + (file_offset - region.file_offset)

    def region_at(self, address: int) -> Region | None:
        index = self._index_at(address)
        return None if index is None else self._regions[index]

    def _index_at(self, address: int) -> int | None:
        index = bisect.bisect_right(self._starts, address) - 1
        if index < 0:
            return None
        region = self._regions[index]
        start = region.address or 0
        return index if start <= address < start + region.size else None

    def read(self, address: int, length: int) -> bytes | None:
        """`length` bytes at `address`, or None when they are not all dumped contiguously."""
        index = self._index_at(address)
        if index is None or length < 0:
            return None
        region = self._regions[index]
        offset = region.file_offset + (address - (region.address or 0))
        if length > region.file_end - offset and not self._continues(
            index, length - (region.file_end - offset)
        ):
            return None
        data = os.pread(self._fd, length, offset)
        return data if len(data) == length else None

    def _continues(self, index: int, extra: int) -> bool:
        """Whether the regions after regions[index] continue it in memory and file."""
        for following in self._regions[index + 1 :]:
            previous = self._regions[index]
            in_memory = following.address == (previous.address or 0) + previous.size
            if not (in_memory and following.file_offset == previous.file_end):
                return False
            extra -= following.size
            if extra <= 0:
                return True
            index += 1
        return False


class ComponentSearch(abc.ABC):
    """One kind of private component (RSA prime, EC scalar, seed) searched for known keys.

    name: the detector name findings report ("rsa-factor", "ec-scalar", "ecx-seed").
    max_length: the most bytes it reads forward from a position in a window.
    """

    name: ClassVar[str]
    max_length: ClassVar[int]

    @classmethod
    @abc.abstractmethod
    def for_keys(
        cls, keys: Sequence[KnownPublicKey], config: SearchConfig
    ) -> ComponentSearch | None:
        """A search for the keys it applies to, or None when none of them does."""

    @abc.abstractmethod
    def search(self, window: Window, memory: AddressSpace) -> Iterable[Candidate]:
        """Candidates whose first byte lies in the window's owned range."""
