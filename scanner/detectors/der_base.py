"""The shape every DER detector shares: read one structure forward from the anchor.

A DER structure states its own length in its first bytes, so a parser reads the
outer header at the anchor, requires the whole structure to lie within
``[anchor, anchor + max_length)`` and inside the window, checks every field
down to the last byte, and cuts out exactly that many bytes.  Truncated or
malformed structures yield no candidate.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import ClassVar

from scanner.detectors.asn1 import DerError
from scanner.detectors.base import Candidate, Parser, Window
from scanner.keys.base import Payload, PayloadKind


class DerParser(Parser):
    """A Parser for one DER structure; subclasses say which and how to check it.

    kind: the payload kind handed to the prover.
    """

    kind: ClassVar[PayloadKind]

    @abc.abstractmethod
    def structure_end(self, data: bytes, offset: int, limit: int) -> int:
        """End offset of the structure at `offset`; raise DerError unless whole and valid."""

    def parse(self, window: Window, position: int) -> Iterable[Candidate]:
        limit = min(len(window.data), position + self.max_length)
        try:
            end = self.structure_end(window.data, position, limit)
        except DerError:
            return ()
        payload = Payload(self.kind, window.data[position:end])
        candidate = Candidate(
            detector=self.name,
            encoding="der",
            offset=window.start + position,
            length=end - position,
            payload=payload,
        )
        return (candidate,)
