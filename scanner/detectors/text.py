"""Key text as memory holds it: UTF-16 narrowed to ASCII, base64 decoded without raising.

Windows, .NET, the JVM without compact strings and JavaScript engines keep
strings as UTF-16 code units.  Every character of a key's text encoding (PEM,
base64, JSON members, XML, PPK, OpenPGP armor) is ASCII, so in UTF-16LE each
one is its ASCII byte followed by a zero byte; the text parsers narrow that to
one byte a character and read it as they read ASCII text.
"""

from __future__ import annotations

import binascii

_URL_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def utf16le_width(data: bytes, position: int) -> int:
    """Bytes a character of the text at `position`: 2 where a zero byte follows the first."""
    return 2 if data[position + 1 : position + 2] == b"\x00" else 1


def narrow_utf16le_prefix(raw: bytes) -> bytes:
    """The UTF-16LE text as ASCII, up to the first code unit not below 0x100."""
    high_bytes = raw[1::2]
    stop = len(high_bytes) - len(high_bytes.lstrip(b"\x00"))
    return raw[0 : 2 * stop : 2]


def narrow_utf16(raw: bytes, *, big_endian: bool = False) -> bytes | None:
    """All of the UTF-16 text one byte a character; None if a code unit is not below 0x100."""
    low_byte = int(big_endian)
    if len(raw) % 2 or raw[1 - low_byte :: 2].strip(b"\x00"):
        return None
    return raw[low_byte::2]


def decode_base64(characters: bytes | str) -> bytes | None:
    """Base64 (RFC 4648 4) exactly as written, padding included; None for anything else."""
    try:
        return binascii.a2b_base64(characters, strict_mode=True)
    except binascii.Error:
        return None


def decode_whole_quanta(characters: bytes) -> bytes | None:
    """The longest prefix of whole 4-character groups (RFC 4648 4), decoded."""
    return decode_base64(characters[: len(characters) - len(characters) % 4])


def decode_unpadded(characters: bytes) -> bytes | None:
    """Base64 or base64url (RFC 4648 4, 5) written without its padding, decoded."""
    standard = characters.translate(_URL_TO_STANDARD)
    return decode_base64(standard + b"=" * (-len(standard) % 4))
