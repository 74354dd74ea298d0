"""PKCS#12 / PFX keystores, RFC 7292 section 4 (".p12", ".pfx", Java's default keystore).

    PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo,
                       macData MacData OPTIONAL }
    ContentInfo ::= SEQUENCE { contentType OID (data or signedData),
                               content [0] EXPLICIT ANY }
    MacData ::= SEQUENCE { mac DigestInfo, macSalt OCTET STRING,
                           iterations INTEGER DEFAULT 1 }

RFC 7292 allows BER: OpenSSL, keytool and Windows write definite lengths, but
NSS and older tools write indefinite lengths and constructed OCTET STRINGs, so
this reader walks BER (X.690 8.1.3: definite lengths, also non-minimal ones, and
indefinite lengths closed by end-of-contents), never past its bound and never
deeper than `_MAX_DEPTH`.  The parser cuts out the whole PFX; the keys inside
are encrypted, so opening them is the prover's work (scanner.keys.keystore).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from scanner.detectors.asn1 import (
    TAG_INTEGER,
    TAG_OCTET_STRING,
    TAG_OID,
    TAG_SEQUENCE,
    DerError,
    decode_oid,
)
from scanner.detectors.base import Candidate, Parser, Window
from scanner.keys.base import Payload, PayloadKind

# A store with one RSA-4096 key and a chain of three certificates is about
# 10 KiB; Java's cacerts truststore (about 140 certificates) is 160-200 KiB.
# The bound is also the chunk overlap (scanner.detectors.base): 256 KiB is
# 1.6 % of a 16 MiB chunk scanned twice.  A larger store is not found.
MAX_LENGTH = 256 * 1024

DATA_OID = "1.2.840.113549.1.7.1"  # RFC 2315 id-data
SIGNED_DATA_OID = "1.2.840.113549.1.7.2"  # RFC 2315 id-signedData
ENCRYPTED_DATA_OID = "1.2.840.113549.1.7.6"  # RFC 2315 id-encryptedData
KEY_BAG_OID = "1.2.840.113549.1.12.10.1.1"  # RFC 7292 4.2.1 keyBag
SHROUDED_KEY_BAG_OID = "1.2.840.113549.1.12.10.1.2"  # RFC 7292 4.2.2 pkcs8ShroudedKeyBag

_TAG_CONTEXT_0 = 0xA0  # [0] EXPLICIT, constructed
_CONSTRUCTED = 0x20
_PFX_VERSION = b"\x03"
_MAX_DEPTH = 24  # PFX nesting is about 10 deep; bounds recursion on hostile BER
_MAX_LENGTH_BYTES = 4


@dataclass(frozen=True)
class BerElement:
    """One BER TLV in a buffer; `content_end` is where an indefinite content's
    end-of-contents octets start (equal to `end` for definite lengths)."""

    tag: int
    offset: int
    content_offset: int
    content_end: int
    end: int


def read_ber(data: bytes, offset: int, limit: int, depth: int = 0) -> BerElement:
    """The BER element at `offset`, which must end at or before `limit`."""
    limit = min(limit, len(data))
    if depth > _MAX_DEPTH or not 0 <= offset < limit - 1:
        raise DerError(f"no BER element at offset {offset}")
    tag, first = data[offset], data[offset + 1]
    if tag & 0x1F == 0x1F:
        raise DerError(f"multi-byte tag at offset {offset}")
    if first == 0x80:
        return _read_indefinite(data, offset, limit, depth)
    content_offset, length = _definite_length(data, offset + 1, limit)
    if content_offset + length > limit:
        raise DerError(f"element at offset {offset} runs past its bound")
    end = content_offset + length
    return BerElement(tag, offset, content_offset, end, end)


def _definite_length(data: bytes, offset: int, limit: int) -> tuple[int, int]:
    """(content offset, length); BER allows non-minimal long forms (X.690 8.1.3.5)."""
    first = data[offset]
    if first < 0x80:
        return offset + 1, first
    count = first & 0x7F
    if count > _MAX_LENGTH_BYTES or offset + 1 + count > limit:
        raise DerError(f"unsupported length at offset {offset}")
    return offset + 1 + count, int.from_bytes(data[offset + 1 : offset + 1 + count], "big")


def _read_indefinite(data: bytes, offset: int, limit: int, depth: int) -> BerElement:
    """X.690 8.1.3.6: constructed only; children up to the 00 00 end-of-contents."""
    tag = data[offset]
    if not tag & _CONSTRUCTED:
        raise DerError(f"indefinite length on a primitive at offset {offset}")
    position = offset + 2
    while not data.startswith(b"\x00\x00", position):
        position = read_ber(data, position, limit, depth + 1).end
        if position + 2 > limit:
            raise DerError(f"no end-of-contents for the element at offset {offset}")
    return BerElement(tag, offset, offset + 2, position, position + 2)


def ber_children(data: bytes, parent: BerElement, depth: int = 0) -> Iterator[BerElement]:
    position = parent.content_offset
    while position < parent.content_end:
        child = read_ber(data, position, parent.content_end, depth + 1)
        yield child
        position = child.end


def _expect(children: Iterator[BerElement], tag: int, what: str) -> BerElement:
    child = next(children, None)
    if child is None or child.tag != tag:
        raise DerError(f"{what} missing")
    return child


def octets(data: bytes, element: BerElement, depth: int = 0) -> bytes:
    """An OCTET STRING's value: primitive, or constructed from segments (X.690 8.7.3)."""
    if element.tag == TAG_OCTET_STRING:
        return data[element.content_offset : element.content_end]
    if element.tag != TAG_OCTET_STRING | _CONSTRUCTED:
        raise DerError(f"expected an OCTET STRING at offset {element.offset}")
    return b"".join(octets(data, part, depth + 1) for part in ber_children(data, element, depth))


def _oid(data: bytes, element: BerElement) -> str:
    if element.tag != TAG_OID:
        raise DerError(f"expected an OBJECT IDENTIFIER at offset {element.offset}")
    return decode_oid(data[element.content_offset : element.content_end], element.offset)


@dataclass(frozen=True)
class ContentInfo:
    content_type: str
    content: BerElement  # the [0] EXPLICIT wrapper


def read_content_info(data: bytes, element: BerElement) -> ContentInfo:
    if element.tag != TAG_SEQUENCE:
        raise DerError(f"expected a ContentInfo at offset {element.offset}")
    fields = ber_children(data, element)
    content_type = _oid(data, _expect(fields, TAG_OID, "contentType"))
    content = _expect(fields, _TAG_CONTEXT_0, "content")
    if next(fields, None) is not None:
        raise DerError(f"ContentInfo at offset {element.offset} has extra fields")
    return ContentInfo(content_type, content)


def _check_mac_data(data: bytes, element: BerElement) -> None:
    """MacData: DigestInfo { AlgorithmIdentifier, digest }, macSalt, iterations DEFAULT 1."""
    fields = ber_children(data, element)
    digest_info = ber_children(data, _expect(fields, TAG_SEQUENCE, "mac"))
    _expect(digest_info, TAG_SEQUENCE, "digestAlgorithm")
    _expect(digest_info, TAG_OCTET_STRING, "digest")
    _expect(fields, TAG_OCTET_STRING, "macSalt")
    iterations = next(fields, None)
    if (iterations is not None and iterations.tag != TAG_INTEGER) or next(fields, None):
        raise DerError(f"malformed MacData at offset {element.offset}")


@dataclass(frozen=True)
class Pfx:
    """A whole PFX: `end` is its end offset; `auth_safe` its outer ContentInfo."""

    auth_safe: ContentInfo
    end: int


def read_pfx(data: bytes, offset: int, limit: int) -> Pfx:
    """The PFX at `offset`; DerError unless whole, version 3, and well formed."""
    pfx = read_ber(data, offset, limit)
    if pfx.tag != TAG_SEQUENCE:
        raise DerError(f"not a PFX at offset {offset}")
    fields = ber_children(data, pfx)
    version = _expect(fields, TAG_INTEGER, "version")
    if data[version.content_offset : version.content_end] != _PFX_VERSION:
        raise DerError(f"PFX at offset {offset} is not version 3")
    auth_safe = read_content_info(data, _expect(fields, TAG_SEQUENCE, "authSafe"))
    if auth_safe.content_type not in (DATA_OID, SIGNED_DATA_OID):
        raise DerError(f"PFX at offset {offset} has an unknown authSafe type")
    mac_data = next(fields, None)
    if mac_data is not None:
        if mac_data.tag != TAG_SEQUENCE or next(fields, None) is not None:
            raise DerError(f"PFX at offset {offset} has extra fields")
        _check_mac_data(data, mac_data)
    return Pfx(auth_safe, pfx.end)


def plain_key_bags(pfx_der: bytes) -> list[bytes]:
    """Every keyBag and pkcs8ShroudedKeyBag SafeBag (whole TLV) in the unencrypted
    SafeContents of a password-integrity PFX (RFC 7292 4.1, 4.2).  Bags inside
    encryptedData safes are reached through cryptography's own loader instead."""
    pfx = read_pfx(pfx_der, 0, len(pfx_der))
    if pfx.auth_safe.content_type != DATA_OID:
        return []
    authenticated_safe = _data_content(pfx_der, pfx.auth_safe)
    bags: list[bytes] = []
    outer = read_ber(authenticated_safe, 0, len(authenticated_safe))
    for element in ber_children(authenticated_safe, outer):
        info = read_content_info(authenticated_safe, element)
        if info.content_type == DATA_OID:
            bags.extend(_key_bags(_data_content(authenticated_safe, info)))
    return bags


def _data_content(data: bytes, info: ContentInfo) -> bytes:
    """The OCTET STRING inside an id-data ContentInfo's [0] wrapper."""
    return octets(data, _expect(ber_children(data, info.content), TAG_OCTET_STRING, "data"))


def _key_bags(safe_contents: bytes) -> Iterable[bytes]:
    outer = read_ber(safe_contents, 0, len(safe_contents))
    for bag in ber_children(safe_contents, outer):
        bag_id = _oid(safe_contents, _expect(ber_children(safe_contents, bag), TAG_OID, "bagId"))
        if bag_id in (KEY_BAG_OID, SHROUDED_KEY_BAG_OID):
            yield safe_contents[bag.offset : bag.end]


class Pkcs12Parser(Parser):
    name = "keystore-pkcs12"
    max_length = MAX_LENGTH

    def parse(self, window: Window, position: int) -> Iterable[Candidate]:
        limit = min(len(window.data), position + self.max_length)
        try:
            end = read_pfx(window.data, position, limit).end
        except DerError:
            return ()
        payload = Payload(PayloadKind.PKCS12, window.data[position:end])
        return (Candidate(self.name, "pkcs12", window.start + position, end - position, payload),)
