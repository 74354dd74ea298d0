"""DER keys as bare base64 or base64url, without PEM armour (RFC 4648 sections 4 and 5).

Config values, environment variables and secrets stores hold a key's DER as
one base64 string ("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC..."): base64 of a DER
structure starts at a 3-byte boundary of the DER, so its first characters are
fixed by the structure's header (rules/base64.yar lists them and how they are
derived).  The anchor is the run's first character; in UTF-16LE (a .NET or Java
string in memory) the first byte of that character.

From the anchor the parser reads the outer DER header out of the first eight
characters, which gives the structure's length; it then collects exactly the
characters that encode it (line breaks with indentation may split the run, as
when a PEM body is pasted without its armour lines), decodes them and hands
the DER to the same structure readers the binary DER detectors use
(scanner/detectors/der_*.py), so a candidate carries the same payload kinds.

Base64url is told from base64 by its alphabet ("-" and "_" for "+" and "/");
a run that holds neither is base64 when padded or when no padding is due, and
base64url when padding is due and missing (RFC 4648 5: base64url usually drops it).

A PEM block's body is the PEM parser's: a run that an END line closes (after
its padding, line breaks and indentation, raw or escaped as in a JSON string)
gives no candidate here, so a PEM block yields one candidate, not two.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from scanner.detectors.asn1 import TAG_SEQUENCE, DerError
from scanner.detectors.base import Candidate, Parser, Window
from scanner.detectors.der_base import DerParser
from scanner.detectors.der_dsa import DerDsaParser
from scanner.detectors.der_encrypted import DerEncryptedParser
from scanner.detectors.der_pkcs1 import DerPkcs1Parser
from scanner.detectors.der_pkcs1_public import DerPkcs1PublicParser
from scanner.detectors.der_pkcs8 import DerPkcs8Parser
from scanner.detectors.der_sec1 import DerSec1Parser
from scanner.detectors.der_spki import DerSpkiParser
from scanner.detectors.der_x509 import DerX509Parser
from scanner.detectors.text import decode_unpadded, narrow_utf16le_prefix, utf16le_width
from scanner.keys.base import Payload

# The largest structure read: an RSA-16384 PKCS#8 key is 9289 bytes, encrypted
# about 9.4 KiB; 16 KiB also covers the patterns' two-byte lengths below 0x4000.
MAX_DER_LENGTH = 16 * 1024
# Base64 of 16 KiB is 21848 characters; line breaks and indentation may add as
# many again (the run is read no further than twice its characters plus 512),
# and UTF-16LE doubles it: 64 KiB, the same bound as the PEM parser's.
MAX_LENGTH = 65536
_HEADER_CHARACTERS = 8  # 6 bytes: tag, 0x82 and two length bytes, with room to spare
_LOOKAHEAD_CHARACTERS = 512  # after the run: padding, line break and indentation, END line
_PEM_END = b"-----END "
# What may stand between a PEM body's last character and its END line: padding,
# line breaks and indentation, raw or escaped inside a string literal.
_BEFORE_END_LINE = re.compile(rb"(?:[= \t\r\n]|\\[rnt])*")

# Tried in this order; the first reader that accepts the whole DER names the kind.
_STRUCTURES: tuple[DerParser, ...] = (
    DerPkcs8Parser(),
    DerPkcs1Parser(),
    DerSec1Parser(),
    DerDsaParser(),
    DerEncryptedParser(),
    DerSpkiParser(),
    DerPkcs1PublicParser(),
    DerX509Parser(),
)

_SEGMENT = re.compile(rb"[A-Za-z0-9+/_-]*")  # one character class: linear
_INDENT = b" \t"
_STANDARD_ONLY = frozenset(b"+/")
_URL_ONLY = frozenset(b"-_")


@dataclass(frozen=True)
class _Run:
    """Characters encoding one DER structure; `text_length` is what they span in the text."""

    characters: bytes
    text_length: int


class Base64DerParser(Parser):
    name = "base64-der"
    max_length = MAX_LENGTH

    def parse(self, window: Window, position: int) -> Iterable[Candidate]:
        data = window.data
        width = utf16le_width(data, position)
        limit = min(len(data), position + self.max_length)
        der_length = _der_length(_narrow(data, position, limit, width, _HEADER_CHARACTERS))
        if der_length is None:
            return ()
        needed = -(-der_length * 4 // 3)
        text = _narrow(data, position, limit, width, 2 * needed + _LOOKAHEAD_CHARACTERS)
        run = _collect(text, needed)
        if run is not None and _closed_by_end_line(text, run.text_length):
            return ()
        alphabet = _alphabet(run.characters, text, run.text_length) if run else None
        der = decode_unpadded(run.characters) if run is not None and alphabet is not None else None
        payload = _payload(der) if der is not None else None
        if run is None or alphabet is None or payload is None:
            return ()
        text_length = run.text_length + _padding_length(text, run.text_length, der_length)
        encoding = alphabet + ("-utf-16le" if width == 2 else "")
        offset = window.start + position
        return (Candidate(self.name, encoding, offset, text_length * width, payload),)


def _narrow(data: bytes, position: int, limit: int, width: int, characters: int) -> bytes:
    """Up to `characters` characters of text at `position`: UTF-16LE narrowed while its
    high bytes are zero (a wider character ends the text)."""
    raw = data[position : min(limit, position + characters * width)]
    return raw if width == 1 else narrow_utf16le_prefix(raw)


def _der_length(head: bytes) -> int | None:
    """Total length of the DER SEQUENCE whose base64 starts `head`.

    X.690 8.1.3 with DER's minimal lengths (10.1): short form, 0x81 LL with
    LL >= 0x80, or 0x82 HH LL with HH != 0; at most MAX_DER_LENGTH in all.
    """
    decoded = decode_unpadded(head) if len(head) == _HEADER_CHARACTERS else None
    if decoded is None or decoded[0] != TAG_SEQUENCE:
        return None
    first = decoded[1]
    if first < 0x80:
        total = 2 + first
    elif first == 0x81 and decoded[2] >= 0x80:
        total = 3 + decoded[2]
    elif first == 0x82 and decoded[2] != 0:
        total = 4 + int.from_bytes(decoded[2:4], "big")
    else:
        return None
    return total if total <= MAX_DER_LENGTH else None


def _collect(text: bytes, needed: int) -> _Run | None:
    """The first `needed` base64 characters of the run at text[0], across line breaks."""
    pieces: list[bytes] = []
    count = 0
    position = 0
    while True:
        match = _SEGMENT.match(text, position)
        if match is None or match.end() == position:
            return None
        take = min(needed - count, match.end() - position)
        pieces.append(text[position : position + take])
        count += take
        if count == needed:
            return _Run(b"".join(pieces), position + take)
        next_line = _next_line_start(text, match.end())
        if next_line is None:
            return None
        position = next_line


def _closed_by_end_line(text: bytes, end: int) -> bool:
    """Whether a PEM END line follows the run: it is then a PEM block's body."""
    gap = _BEFORE_END_LINE.match(text, end, end + _LOOKAHEAD_CHARACTERS)
    return gap is not None and text.startswith(_PEM_END, gap.end())


def _next_line_start(text: bytes, position: int) -> int | None:
    if text.startswith(b"\r\n", position):
        position += 2
    elif text.startswith(b"\n", position):
        position += 1
    else:
        return None
    while position < len(text) and text[position] in _INDENT:
        position += 1
    return position


def _alphabet(characters: bytes, text: bytes, end: int) -> str | None:
    """ "base64" or "base64url" (module docstring); None when the run mixes both alphabets."""
    used = frozenset(characters)
    standard, url = bool(used & _STANDARD_ONLY), bool(used & _URL_ONLY)
    if standard and url:
        return None
    if url:
        return "base64url"
    padding_due = -len(characters) % 4
    padded = text[end : end + padding_due] == b"=" * padding_due
    return "base64" if standard or padded else "base64url"


def _padding_length(text: bytes, end: int, der_length: int) -> int:
    padding_due = -der_length % 3
    return padding_due if text[end : end + padding_due] == b"=" * padding_due else 0


def _payload(der: bytes) -> Payload | None:
    for structure in _STRUCTURES:
        try:
            end = structure.structure_end(der, 0, len(der))
        except DerError:
            continue
        if end == len(der):
            return Payload(structure.kind, der)
    return None
