"""Bounded reads of consecutive binary fields, shared by the binary parsers.

A parser reads forward from its anchor and never past its bound (the window
and `max_length`, scanner.detectors.base).  `FieldReader` checks that bound
before every read and raises its subclass's `error` (the format's own
exception, which its parser turns into "no candidate") rather than read a
byte outside it.
"""

from __future__ import annotations

from typing import ClassVar


class FieldError(Exception):
    """A field runs past the reader's bound."""


class FieldReader:
    """Reads consecutive fields of `data[offset:limit]` and never a byte outside it.

    Subclasses set `error` to their format's exception and add its field types.
    """

    error: ClassVar[type[Exception]] = FieldError

    def __init__(self, data: bytes, offset: int = 0, limit: int | None = None) -> None:
        self.data = data
        self.position = offset
        self.limit = len(data) if limit is None else min(limit, len(data))

    def take(self, size: int) -> bytes:
        end = self.position + size
        if size < 0 or end > self.limit:
            raise self.error(f"field at offset {self.position} runs past its bound")
        field_bytes = self.data[self.position : end]
        self.position = end
        return field_bytes

    def octet(self) -> int:
        return self.take(1)[0]

    def big_endian(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def little_endian(self, size: int) -> int:
        return int.from_bytes(self.take(size), "little")

    def uint32_le(self) -> int:
        return self.little_endian(4)

    def rest(self) -> int:
        """Bytes left before the bound."""
        return self.limit - self.position
