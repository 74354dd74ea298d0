"""The shape every binary key-blob detector shares (CNG, CAPI): fixed fields, then numbers.

A blob starts with a magic and little-endian length fields; the parser checks
every length against the others before reading a number, reads forward from
the anchor only, within ``[anchor, anchor + max_length)`` and the window, and
cuts out exactly the blob.  A blob cut short, or whose fields disagree, yields
no candidate.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import ClassVar

from scanner.detectors.base import Candidate, Parser, Window
from scanner.detectors.fields import FieldReader
from scanner.keys.base import Payload, PayloadKind


class BlobError(Exception):
    """A binary key blob is cut short or its fields disagree (never leaves a parser)."""


class BlobReader(FieldReader):
    """The fields of one blob; a field cut short is a BlobError."""

    error = BlobError


def payload_of(kind: PayloadKind, der: bytes | None, offset: int) -> Payload:
    """The payload of a built structure; None (numbers that form no key) is a BlobError."""
    if der is None:
        raise BlobError(f"numbers of the blob at offset {offset} cannot form one key")
    return Payload(kind, der)


class BlobParser(Parser):
    """A Parser for one binary blob; subclasses say how to read it.

    encoding: the value reports show ("cng-blob", "capi-blob").
    """

    encoding: ClassVar[str]

    @abc.abstractmethod
    def read_blob(self, data: bytes, offset: int, limit: int) -> tuple[Payload, int]:
        """(payload, end offset) of the blob at `offset`; BlobError unless whole and valid."""

    def parse(self, window: Window, position: int) -> Iterable[Candidate]:
        limit = min(len(window.data), position + self.max_length)
        try:
            payload, end = self.read_blob(window.data, position, limit)
        except BlobError:
            return ()
        candidate = Candidate(
            detector=self.name,
            encoding=self.encoding,
            offset=window.start + position,
            length=end - position,
            payload=payload,
        )
        return (candidate,)
