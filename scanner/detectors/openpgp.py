"""OpenPGP private keys: Secret-Key packets, binary or in an ASCII-armored block.

Binary (RFC 9580 4): the anchor is the packet's tag octet; the parser reads
the header and one Secret-Key or Secret-Subkey packet (openpgp_packets.py),
and the candidate is that packet.

Armored (RFC 9580 6.2): "-----BEGIN PGP PRIVATE KEY BLOCK-----" (PGP 2 and 5
wrote "PGP SECRET KEY BLOCK"), a line break, optional "Name: value" armor
headers ("Version:", "Comment:") and a blank line, base64 lines, an optional
CRC24 line "=XXXX", then the END line.  The block must open with a Secret-Key
packet; every Secret-Key and Secret-Subkey packet in it gives one candidate,
all at the block's offset and length (each is a key with its own fingerprint).
A block longer than max_length, or cut short in a dump, still gives the keys
in the packets that lie whole in its first max_length bytes: the primary key
comes first.  The CRC24 is not verified (see openpgp_packets.py on checksums).

Like PEM, the block turns up in UTF-16LE and inside string literals with
escaped line breaks; indentation before lines is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from scanner.detectors.base import Candidate, Parser, Window
from scanner.detectors.openpgp_packets import (
    MAX_PACKET_LENGTH,
    SECRET_KEY_TAGS,
    read_packet_header,
    secret_key_payload,
)
from scanner.detectors.text import decode_whole_quanta, narrow_utf16le_prefix
from scanner.keys.base import Payload

_BEGIN = b"-----BEGIN "
_END = b"-----END "
_DASHES = b"-----"
_LABELS = (b"PGP PRIVATE KEY BLOCK", b"PGP SECRET KEY BLOCK")
_SECRET_KEY_TAG = 5  # a private key block opens with the primary key's packet
# An RSA-4096 key with an RSA-4096 subkey, a few user IDs and their signatures
# is about 8 KB: 11 K base64 characters, 22 KiB in UTF-16LE.  64 KiB also holds
# an RSA-16384 pair (about 20 KB); photo IDs can make blocks far larger, whose
# leading packets are still read (see above).
MAX_ARMOR_LENGTH = 65536
_MAX_LINE = 1024  # RFC 9580 6.3: 76 base64 characters a line at most; headers vary
_MAX_PACKETS = 1024
_INDENT = b" \t"
_HEADER = re.compile(rb"[A-Za-z][A-Za-z0-9-]*: ")
_BASE64_LINE = re.compile(rb"[A-Za-z0-9+/]+={0,2}")
_CRC24_LINE = re.compile(rb"=[A-Za-z0-9+/]{4}")


@dataclass(frozen=True)
class _LineForm:
    name: str
    content: re.Pattern[bytes]  # stops at the first break
    breaks: tuple[bytes, ...]  # longest first


_RAW = _LineForm("", re.compile(rb"[^\r\n]*"), (b"\r\n", b"\n", b"\r"))
_ESCAPED = _LineForm("-escaped", re.compile(rb"[^\r\n\\]*"), (b"\\r\\n", b"\\n"))


@dataclass(frozen=True)
class _Line:
    """A line without its indentation, which starts at `start` in the text."""

    content: bytes
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.content)


def _lines(text: bytes, start: int, form: _LineForm) -> Iterator[_Line]:
    """Lines from `start` (just after a line break) while each fits _MAX_LINE."""
    position = start
    while position < len(text):
        match = form.content.match(text, position, position + _MAX_LINE + 1)
        end = match.end() if match is not None else position
        if end - position > _MAX_LINE:
            return
        indent = len(text[position:end]) - len(text[position:end].lstrip(_INDENT))
        yield _Line(text[position + indent : end].rstrip(_INDENT), position + indent)
        line_break = next((b for b in form.breaks if text.startswith(b, end)), None)
        if line_break is None:
            return
        position = end + len(line_break)


@dataclass(frozen=True)
class ArmoredBlock:
    """What the base64 lines decode to, and how far into the text the block reaches."""

    decoded: bytes = field(repr=False)
    length: int
    form: str


def read_armor(text: bytes) -> ArmoredBlock | None:
    """The armored private key block at text[0] (ASCII), or None."""
    label = next((x for x in _LABELS if text.startswith(_BEGIN + x + _DASHES)), None)
    if label is None:
        return None
    begin_end = len(_BEGIN + label + _DASHES)
    form = next(
        (f for f in (_RAW, _ESCAPED) if any(text.startswith(b, begin_end) for b in f.breaks)),
        None,
    )
    if form is None:
        return None
    lines = _lines(text, begin_end, form)
    next(lines)  # the empty rest of the BEGIN line
    body, end = _body_lines(lines, _END + label + _DASHES)
    decoded = decode_whole_quanta(b"".join(body))
    if not decoded:
        return None
    return ArmoredBlock(decoded, end, form.name)


def _body_lines(lines: Iterator[_Line], end_line: bytes) -> tuple[list[bytes], int]:
    """The base64 lines after the armor headers, and where the block ends in the text.

    The block ends with the END line; without one (cut short, or longer than
    the parser reads) it ends with the last base64 or CRC24 line.
    """
    line = _skip_headers(lines)
    body: list[bytes] = []
    end = 0
    while line is not None and _BASE64_LINE.fullmatch(line.content):
        body.append(line.content)
        end = line.end
        line = next(lines, None)
    if line is not None and body and _CRC24_LINE.fullmatch(line.content):
        end = line.end
        line = next(lines, None)
    if line is not None and line.content.startswith(end_line):
        end = line.start + len(end_line)
    return body, end


def _skip_headers(lines: Iterator[_Line]) -> _Line | None:
    """The first body line: after "Name: value" headers and the blank line that ends them."""
    line = next(lines, None)
    had_headers = False
    while line is not None and _HEADER.match(line.content):
        had_headers = True
        line = next(lines, None)
    if line is not None and not line.content:
        return next(lines, None)
    return None if had_headers else line


def secret_key_payloads(packets: bytes) -> list[Payload]:
    """A payload for each Secret-Key and Secret-Subkey packet, if the first is a Secret-Key."""
    payloads: list[Payload] = []
    offset = 0
    for _ in range(_MAX_PACKETS):
        header = read_packet_header(packets, offset, len(packets))
        if header is None or (offset == 0 and header.tag != _SECRET_KEY_TAG):
            break
        body_start = offset + header.header_length
        if header.tag in SECRET_KEY_TAGS and header.body_length <= MAX_PACKET_LENGTH:
            payload = secret_key_payload(packets[body_start : offset + header.length])
            payloads += [payload] if payload is not None else []
        offset += header.length
    return payloads


_UTF16LE_BEGIN = (_BEGIN + b"PGP ").decode("ascii").encode("utf-16le")


class OpenPgpArmoredParser(Parser):
    name = "openpgp-armored"
    max_length = MAX_ARMOR_LENGTH

    def parse(self, window: Window, position: int) -> Iterable[Candidate]:
        raw = window.data[position : position + self.max_length]
        wide = raw.startswith(_UTF16LE_BEGIN)
        block = read_armor(narrow_utf16le_prefix(raw) if wide else raw)
        if block is None:
            return ()
        encoding = "armored" + ("-utf-16le" if wide else "") + block.form
        length = block.length * (2 if wide else 1)
        offset = window.start + position
        return tuple(
            Candidate("openpgp", encoding, offset, length, payload)
            for payload in secret_key_payloads(block.decoded)
        )


class OpenPgpBinaryParser(Parser):
    name = "openpgp-binary"
    max_length = MAX_PACKET_LENGTH + 6  # the longest packet header is 6 octets

    def parse(self, window: Window, position: int) -> Iterable[Candidate]:
        data = window.data
        header = read_packet_header(data, position, position + self.max_length)
        if header is None or header.tag not in SECRET_KEY_TAGS:
            return ()
        body_start = position + header.header_length
        payload = secret_key_payload(data[body_start : position + header.length])
        if payload is None:
            return ()
        offset = window.start + position
        return (Candidate("openpgp", "binary", offset, header.length, payload),)
