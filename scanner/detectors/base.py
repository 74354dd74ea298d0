"""Detectors stage: parsers named by YARA rules, and the chunked-scan contract.

Overlap contract (what `scanner.detectors.scan` guarantees and every parser
relies on):

* A span of contiguous regions is scanned in chunks.  Chunk k *owns* the
  absolute offsets ``[span_start + k*C, span_start + (k+1)*C)`` where C is
  `ScanConfig.chunk_size`, and its data window extends O bytes further
  (clipped at the span end), O = `overlap_for(parsers)` = the largest
  `max_length` of any registered parser.
* The engine reports every pattern match in the window.  A match is handed to
  its parser only when its anchor offset lies in the owned range; a match whose
  anchor lies in the overlap is left to the next chunk, which sees it again in
  its own owned range.  So no anchor is lost at a chunk edge and none is
  handled twice.
* Rules anchor on the first byte of the structure they announce.  A parser
  reads forward from the anchor, never backward, and never more than its
  `max_length` bytes; so a structure that starts in the owned range lies whole
  inside the window.  A structure that would need more than `max_length` bytes
  is not a candidate.
* Offsets in candidates are absolute offsets in the decoded blob.

A parser returns candidates (usually one) or nothing; it never raises on
garbage: random bytes that happen to match a pattern are the common case.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from scanner.keys.base import Payload


@dataclass(frozen=True)
class Window:
    """The bytes one chunk scan sees.

    data: the window's bytes; data[0] is at absolute offset `start`.
    owned_end: absolute offset where this chunk's owned range ends.
    """

    data: bytes = field(repr=False)
    start: int
    owned_end: int

    def owns(self, absolute_offset: int) -> bool:
        return self.start <= absolute_offset < self.owned_end


@dataclass(frozen=True)
class Candidate:
    """A structure a parser cut out of memory, not yet proven.

    detector: the name reports show ("pem", "der-pkcs8", ...).
    encoding: how it was stored ("ascii", "utf-16le", "der", "base64", ...).
    offset: absolute offset of its first byte in the blob.
    length: how many bytes of the blob it covers.
    """

    detector: str
    encoding: str
    offset: int
    length: int
    payload: Payload


class Parser(abc.ABC):
    """A detector: proves nothing, only cuts candidates out at a rule's anchor.

    name: the value YARA rules give in their `parser` metadata.
    max_length: the most bytes it reads from an anchor (sets the chunk overlap).
    """

    name: ClassVar[str]
    max_length: ClassVar[int]

    @abc.abstractmethod
    def parse(self, window: Window, position: int) -> Iterable[Candidate]:
        """Candidates for the structure anchored at `window.data[position]`."""


def overlap_for(parsers: Sequence[Parser]) -> int:
    return max((parser.max_length for parser in parsers), default=0)
