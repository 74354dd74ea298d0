"""A small, bounded DER reader (ITU-T X.690 section 10) for the key detectors.

Only what key structures use: single-byte tags (tag numbers below 31), definite
lengths of at most four bytes, and the minimal encodings DER demands (X.690
10.1: shortest length form; 8.3.2: shortest INTEGER).  A reader never looks at
a byte outside the range it was given, so a parser that hands it
``[anchor, anchor + max_length)`` cannot read past its bound.  Anything else
raises `DerError`, which parsers turn into "no candidate" and the prover into
`KeyProofError`; it never leaves those two.

Error messages name what is wrong and where, never the bytes read.
"""

from __future__ import annotations

from dataclasses import dataclass

TAG_INTEGER = 0x02
TAG_BIT_STRING = 0x03
TAG_OCTET_STRING = 0x04
TAG_NULL = 0x05
TAG_OID = 0x06
TAG_SEQUENCE = 0x30
TAG_SET = 0x31

# X.690 8.1.3.5: at most four length bytes; no key structure comes near 4 GiB.
_MAX_LENGTH_BYTES = 4
# No OID a key structure uses is longer; the bound keeps garbage cheap to reject.
_MAX_OID_BYTES = 32


class DerError(Exception):
    """Bytes that are not the DER structure the caller expects."""


def context_tag(number: int, *, constructed: bool) -> int:
    """The one-byte tag of a context-specific [number] field."""
    return 0x80 | (0x20 if constructed else 0) | number


@dataclass(frozen=True)
class Element:
    """One TLV: `offset` is where its tag byte is in the buffer it was read from."""

    tag: int
    offset: int
    header_length: int
    length: int

    @property
    def content_offset(self) -> int:
        return self.offset + self.header_length

    @property
    def end(self) -> int:
        return self.content_offset + self.length


def read_element(data: bytes, offset: int, limit: int) -> Element:
    """The TLV at `offset`, which must end at or before `limit`."""
    limit = min(limit, len(data))
    if not 0 <= offset < limit:
        raise DerError(f"no element at offset {offset}")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise DerError(f"multi-byte tag at offset {offset}")
    length, length_bytes = _read_length(data, offset + 1, limit)
    element = Element(tag, offset, 1 + length_bytes, length)
    if element.end > limit:
        raise DerError(f"element at offset {offset} runs past its bound")
    return element


def _read_length(data: bytes, offset: int, limit: int) -> tuple[int, int]:
    """(length, bytes used); X.690 10.1 forbids indefinite and padded lengths."""
    if offset >= limit:
        raise DerError(f"length missing at offset {offset}")
    first = data[offset]
    if first < 0x80:
        return first, 1
    count = first & 0x7F
    if count == 0 or count > _MAX_LENGTH_BYTES:
        raise DerError(f"unsupported length form at offset {offset}")
    if offset + 1 + count > limit:
        raise DerError(f"length at offset {offset} is cut off")
    length = int.from_bytes(data[offset + 1 : offset + 1 + count], "big")
    if length < 0x80 or data[offset + 1] == 0:
        raise DerError(f"non-minimal length at offset {offset}")
    return length, 1 + count


class DerReader:
    """Reads consecutive elements of `data[offset:end]`, never outside it."""

    def __init__(self, data: bytes, offset: int, end: int) -> None:
        self._data = data
        self.position = offset
        self.end = min(end, len(data))

    @classmethod
    def over(cls, data: bytes, element: Element) -> DerReader:
        """A reader over the content of `element`."""
        return cls(data, element.content_offset, element.end)

    def at_end(self) -> bool:
        return self.position >= self.end

    def peek_tag(self) -> int | None:
        return None if self.at_end() else self._data[self.position]

    def any_element(self) -> Element:
        element = read_element(self._data, self.position, self.end)
        self.position = element.end
        return element

    def element(self, tag: int) -> Element:
        if self.peek_tag() != tag:
            raise DerError(f"expected tag 0x{tag:02x} at offset {self.position}")
        return self.any_element()

    def optional(self, tag: int) -> Element | None:
        return self.element(tag) if self.peek_tag() == tag else None

    def content(self, element: Element) -> bytes:
        return self._data[element.content_offset : element.end]

    def raw(self, element: Element) -> bytes:
        """The whole TLV, header included."""
        return self._data[element.offset : element.end]

    def sequence(self) -> DerReader:
        return DerReader.over(self._data, self.element(TAG_SEQUENCE))

    def enter(self, element: Element) -> DerReader:
        return DerReader.over(self._data, element)

    def integer_element(self) -> Element:
        """An INTEGER in minimal two's complement form (X.690 8.3.2)."""
        element = self.element(TAG_INTEGER)
        check_minimal_integer(self._data, element)
        return element

    def integer(self) -> int:
        return int.from_bytes(self.content(self.integer_element()), "big", signed=True)

    def positive_integer_element(self) -> Element:
        """An INTEGER > 0, without converting it (key fields can be 2 KiB long)."""
        element = self.integer_element()
        first = self._data[element.content_offset]
        if first & 0x80 or (element.length == 1 and first == 0):
            raise DerError(f"INTEGER at offset {element.offset} is not positive")
        return element

    def positive_integer(self) -> int:
        return int.from_bytes(self.content(self.positive_integer_element()), "big")

    def octet_string(self) -> bytes:
        return self.content(self.element(TAG_OCTET_STRING))

    def null(self) -> None:
        if self.element(TAG_NULL).length != 0:
            raise DerError(f"NULL with content before offset {self.position}")

    def oid(self) -> str:
        element = self.element(TAG_OID)
        return decode_oid(self.content(element), element.offset)

    def bit_string_element(self, tag: int = TAG_BIT_STRING) -> Element:
        """A BIT STRING of whole octets (keys and signatures): its first content
        byte, the unused-bits count (X.690 8.6.2.2), is 0; the bits follow it."""
        element = self.element(tag)
        if element.length == 0 or self._data[element.content_offset] != 0:
            raise DerError(f"BIT STRING at offset {element.offset} has unused bits")
        return element

    def bit_string(self, tag: int = TAG_BIT_STRING) -> bytes:
        return self.content(self.bit_string_element(tag))[1:]

    def finish(self) -> None:
        """Require that every byte of the range was read (DER has no padding)."""
        if self.position != self.end:
            raise DerError(f"unexpected data at offset {self.position}")


def check_minimal_integer(data: bytes, element: Element) -> None:
    if element.length == 0:
        raise DerError(f"empty INTEGER at offset {element.offset}")
    if element.length > 1:
        first, second = data[element.content_offset], data[element.content_offset + 1]
        if (first == 0x00 and second < 0x80) or (first == 0xFF and second >= 0x80):
            raise DerError(f"non-minimal INTEGER at offset {element.offset}")


def decode_oid(content: bytes, offset: int = 0) -> str:
    """Dotted form of OBJECT IDENTIFIER content (X.690 8.19), minimal subidentifiers."""
    if not 0 < len(content) <= _MAX_OID_BYTES or content[-1] & 0x80:
        raise DerError(f"malformed OBJECT IDENTIFIER at offset {offset}")
    arcs: list[int] = []
    value = 0
    for index, byte in enumerate(content):
        starts_arc = index == 0 or not content[index - 1] & 0x80
        if starts_arc and byte == 0x80:
            raise DerError(f"non-minimal OBJECT IDENTIFIER at offset {offset}")
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first_arc = min(arcs[0] // 40, 2)
    return ".".join(str(arc) for arc in (first_arc, arcs[0] - 40 * first_arc, *arcs[1:]))


def encode_oid(dotted: str) -> bytes:
    """OBJECT IDENTIFIER TLV (X.690 8.19) of a dotted OID; the inverse of `decode_oid`."""
    arcs = [int(arc) for arc in dotted.split(".")]
    content = b"".join(_base128(arc) for arc in [40 * arcs[0] + arcs[1], *arcs[2:]])
    return encode_tlv(TAG_OID, content)


def _base128(arc: int) -> bytes:
    """X.690 8.19.2: seven bits a byte, most significant first, bit 8 set on all but the last."""
    groups = [(arc >> shift) & 0x7F for shift in range(0, max(arc.bit_length(), 1), 7)]
    return bytes([0x80 | group for group in reversed(groups[1:])] + [groups[0]])


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    length_bytes = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(length_bytes)]) + length_bytes


def encode_tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + encode_length(len(content)) + content


def encode_integer(value: int) -> bytes:
    """Minimal two's complement INTEGER (X.690 8.3.2)."""
    magnitude_bits = (value if value >= 0 else ~value).bit_length()
    size = magnitude_bits // 8 + 1
    return encode_tlv(TAG_INTEGER, value.to_bytes(size, "big", signed=True))
