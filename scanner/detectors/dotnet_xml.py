"""The .NET `RSAKeyValue` XML that RSA.ToXmlString writes and FromXmlString reads.

    <RSAKeyValue><Modulus>..</Modulus><Exponent>..</Exponent><P>..</P><Q>..</Q>
    <DP>..</DP><DQ>..</DQ><InverseQ>..</InverseQ><D>..</D></RSAKeyValue>

Each value is the base64 of a big-endian unsigned number.  ToXmlString(false)
writes Modulus and Exponent only: a public key (the same element is XML-DSig's
ds:RSAKeyValue, which may carry an xmlns attribute).  Elements may come in any
order with whitespace between them, and base64 may be wrapped; any other
element, a repeated one, or text outside the elements is not this structure.
A private key needs P and Q; D and the CRT values are computed where missing.

.NET strings are UTF-16LE in memory, so the rule matches both widths and the
parser reads the width of its anchor.  The anchor is the "<" of "<RSAKeyValue";
the candidate ends after "</RSAKeyValue>".  The numbers become RSAPrivateKey /
RSAPublicKey DER (scanner.detectors.key_der).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from scanner.detectors.base import Candidate, Parser, Window
from scanner.detectors.key_der import RsaNumbers, rsa_private_der, rsa_public_der
from scanner.detectors.text import decode_base64, utf16le_width
from scanner.keys.base import Payload, PayloadKind

# A 16384-bit private key is about 12.4 K characters of base64 and tags; 16 K
# characters leave room for indentation and wrapped base64.
_MAX_CHARACTERS = 16 * 1024
_OPEN = "<RSAKeyValue"
_CLOSE = "</RSAKeyValue>"
_PUBLIC_NAMES = frozenset({"Modulus", "Exponent"})
_PRIVATE_NAMES = frozenset({"P", "Q", "DP", "DQ", "InverseQ", "D"})
_NAMES = _PUBLIC_NAMES | _PRIVATE_NAMES

# The start tag may carry attributes (xmlns="http://www.w3.org/2000/09/xmldsig#").
_START_TAG = re.compile(r"<RSAKeyValue(?:\s[^<>]*)?>")
_ELEMENT = re.compile(r"\s*<(?P<name>[A-Za-z]{1,8})>(?P<value>[A-Za-z0-9+/=\s]*)</(?P=name)>")
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class _Width:
    """How the text is stored: `encoding` is the value reports show."""

    encoding: str
    codec: str
    bytes_per_character: int


_ASCII = _Width("xml", "ascii", 1)
_UTF16LE = _Width("xml-utf-16le", "utf-16-le", 2)


def read_rsa_key_value(data: bytes, offset: int, limit: int) -> tuple[Payload, int, str] | None:
    """(payload, end offset, encoding) of the RSAKeyValue at `offset`, or None."""
    width = _UTF16LE if utf16le_width(data, offset) == 2 else _ASCII
    limit = min(limit, len(data), offset + _MAX_CHARACTERS * width.bytes_per_character)
    end = _close_end(data, offset, limit, width)
    if end is None:
        return None
    try:
        text = data[offset:end].decode(width.codec)
    except UnicodeDecodeError:
        return None
    values = _element_values(text) if text.isascii() else None
    payload = None if values is None else _payload(values)
    return None if payload is None else (payload, end, width.encoding)


def _close_end(data: bytes, offset: int, limit: int, width: _Width) -> int | None:
    """Offset after the first end tag stored in `width` at a character boundary."""
    close = _CLOSE.encode(width.codec)
    found = data.find(close, offset, limit)
    while found >= 0 and (found - offset) % width.bytes_per_character:
        found = data.find(close, found + 1, limit)
    return None if found < 0 else found + len(close)


def _element_values(text: str) -> dict[str, bytes] | None:
    """The decoded value of each child element, or None unless the text is one RSAKeyValue."""
    start = _START_TAG.match(text)
    if start is None:
        return None
    body_end = len(text) - len(_CLOSE)
    values: dict[str, bytes] = {}
    position = start.end()
    while (element := _ELEMENT.match(text, position, body_end)) is not None:
        name = element["name"]
        value = _base64_number(element["value"])
        if name not in _NAMES or name in values or value is None:
            return None
        values[name] = value
        position = element.end()
    return values if text[position:body_end].strip() == "" else None


def _base64_number(text: str) -> bytes | None:
    """RFC 4648 base64 in groups of four characters, as Convert.FromBase64String reads it."""
    characters = _WHITESPACE.sub("", text)
    if not characters or len(characters) % 4:
        return None
    return decode_base64(characters)


def _payload(values: dict[str, bytes]) -> Payload | None:
    if not values.keys() >= _PUBLIC_NAMES:
        return None
    number = {name: int.from_bytes(value, "big") for name, value in values.items()}
    n, e = number["Modulus"], number["Exponent"]
    if not _PRIVATE_NAMES & values.keys():
        der = rsa_public_der(n, e)
        return None if der is None else Payload(PayloadKind.PKCS1_PUBLIC, der)
    if "P" not in number or "Q" not in number:
        return None
    numbers = RsaNumbers(
        n,
        e,
        number["P"],
        number["Q"],
        number.get("D"),
        number.get("DP"),
        number.get("DQ"),
        number.get("InverseQ"),
    )
    der = rsa_private_der(numbers)
    return None if der is None else Payload(PayloadKind.PKCS1_PRIVATE, der)


class DotnetXmlParser(Parser):
    name = "dotnet-xml"
    max_length = _MAX_CHARACTERS * _UTF16LE.bytes_per_character

    def parse(self, window: Window, position: int) -> Iterable[Candidate]:
        limit = min(len(window.data), position + self.max_length)
        found = read_rsa_key_value(window.data, position, limit)
        if found is None:
            return ()
        payload, end, encoding = found
        candidate = Candidate(
            detector=self.name,
            encoding=encoding,
            offset=window.start + position,
            length=end - position,
            payload=payload,
        )
        return (candidate,)
