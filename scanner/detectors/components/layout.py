"""Where a window lies in the process's address space: its virtual address and word size.

Structures are aligned in virtual memory, not in the dump file: gcore writes
segments after the notes, at file offsets that need not share the addresses'
alignment.  So aligned positions in a window are computed from the virtual
address of its first byte.  A window always lies inside one span of regions
contiguous in both file and memory (see scanner.detectors.scan), so one
address fixes all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.detectors.base import Window
from scanner.detectors.components.base import AddressSpace

# A process whose every mapping lies below 4 GiB is taken to be 32-bit.
ADDRESS_32_BIT_LIMIT = 1 << 32


@dataclass(frozen=True)
class WindowLayout:
    """address: virtual address of window.start, None for raw files (no addresses).

    pointer_size: 8, or 4 when every mapped region lies below 4 GiB.
    """

    address: int | None
    pointer_size: int

    def first_aligned(self, window_start: int, alignment: int) -> int:
        """Index in the window of its first byte aligned in memory (in the file for raw)."""
        position = window_start if self.address is None else self.address
        return -position % alignment


def window_layout(window: Window, memory: AddressSpace) -> WindowLayout:
    high = memory.highest_address
    if high is None:
        return WindowLayout(None, 8)
    pointer_size = 4 if high <= ADDRESS_32_BIT_LIMIT else 8
    return WindowLayout(memory.address_of(window.start), pointer_size)
