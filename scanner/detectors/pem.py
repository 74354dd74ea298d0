"""PEM blocks: RFC 7468 textual encodings and RFC 1421 legacy encrypted keys.

A block is "-----BEGIN <label>-----", line break, optional RFC 1421 headers
and a blank line, base64 lines, "-----END <label>-----".  In memory it turns up
as a key file read into a buffer (LF or CRLF), inside YAML or config files
(every line indented), inside JSON or source strings (line breaks written as
the two characters backslash-n, "\\r\\n" escaped, "/" maybe written "\\/"),
in UTF-16LE (Windows and Java/.NET strings in memory) and in UTF-16BE (Java
char[] in HPROF heap dumps, memory of big-endian machines).  The parser
narrows UTF-16 to ASCII, then reads one text form with the line break of the
BEGIN line.

The anchor is the first byte of "-----BEGIN " (the first "-"; in UTF-16BE the
0x00 before it); the candidate ends with the last byte of the END line, whose
label must repeat the BEGIN label.

UTF-16 text of ASCII characters with a 0x00 byte on each side reads both ways:
"00 2D 00 2D ... 00 2D 00" is UTF-16BE from its first byte and UTF-16LE from
its second.  Reading forward only, the two cannot be told apart by the text
itself, so the byte after the END line decides: a UTF-16BE reading whose next
byte is 0x00 is left to the UTF-16LE reading one byte on (which then ends with
that byte, and which the `wide` rule anchors there).  So every such block gives
exactly one candidate: UTF-16LE text (whose last byte is 0x00) always reads as
UTF-16LE, UTF-16BE text reads as UTF-16BE when followed by a non-zero byte or
by the end of its region (HPROF: the next record's tag), else as UTF-16LE.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from scanner.detectors.base import Candidate, Parser, Window
from scanner.detectors.openssh import openssh_blob_length
from scanner.detectors.text import decode_base64, narrow_utf16
from scanner.keys.base import Payload, PayloadKind

_BEGIN = b"-----BEGIN "
_END = b"-----END "
_DASHES = b"-----"
_MAX_LABEL = 32  # longest label below is 21 characters

# The largest block accepted is an RSA-16384 key in PKCS#8: PrivateKeyInfo of
# at most 9289 bytes DER (n and d 2049 bytes, p, q, dp, dq, qinv 1025, each with
# tag and length), about 9.4 KB as EncryptedPrivateKeyInfo.  That is 12.5 K
# base64 characters on 196 lines of 64; JSON-escaped "\r\n" adds 4 characters
# a line, the BEGIN and END lines 72: 13.4 K characters, 26.8 KB in UTF-16LE.
# 64 KiB covers that with up to 98 characters of indentation on every line
# (tests/detectors/test_pem.py recomputes the sizes from the DER formula).
MAX_LENGTH = 65536

_LABELS: dict[bytes, PayloadKind] = {
    b"PRIVATE KEY": PayloadKind.PKCS8_PRIVATE,
    b"RSA PRIVATE KEY": PayloadKind.PKCS1_PRIVATE,
    b"EC PRIVATE KEY": PayloadKind.SEC1_PRIVATE,
    b"DSA PRIVATE KEY": PayloadKind.DSA_PRIVATE,
    b"ENCRYPTED PRIVATE KEY": PayloadKind.ENCRYPTED_PKCS8,
    b"OPENSSH PRIVATE KEY": PayloadKind.OPENSSH_PRIVATE,
    b"PUBLIC KEY": PayloadKind.SPKI,
    b"RSA PUBLIC KEY": PayloadKind.PKCS1_PUBLIC,
    b"CERTIFICATE": PayloadKind.X509_CERTIFICATE,
    b"X509 CERTIFICATE": PayloadKind.X509_CERTIFICATE,
    b"TRUSTED CERTIFICATE": PayloadKind.X509_CERTIFICATE,
}
# Labels that may carry "Proc-Type: 4,ENCRYPTED" (OpenSSL PEM_write_bio_*PrivateKey
# with a cipher), and the algorithm each names.
_LEGACY_ALGORITHMS: dict[bytes, str] = {
    b"RSA PRIVATE KEY": "RSA",
    b"EC PRIVATE KEY": "EC",
    b"DSA PRIVATE KEY": "DSA",
}
# DEK-Info cipher -> (IV bytes, block bytes): the CBC ciphers OpenSSL accepts there.
_LEGACY_CIPHERS: dict[bytes, tuple[int, int]] = {
    b"DES-CBC": (8, 8),
    b"DES-EDE-CBC": (8, 8),
    b"DES-EDE3-CBC": (8, 8),
    b"DESX-CBC": (8, 8),
    b"IDEA-CBC": (8, 8),
    b"BF-CBC": (8, 8),
    b"CAST5-CBC": (8, 8),
    b"RC2-CBC": (8, 8),
    b"RC2-40-CBC": (8, 8),
    b"RC2-64-CBC": (8, 8),
    b"SEED-CBC": (16, 16),
    b"SM4-CBC": (16, 16),
    **{
        f"{family}-{bits}-CBC".encode(): (16, 16)
        for family in ("AES", "CAMELLIA", "ARIA")
        for bits in (128, 192, 256)
    },
}
_BASE64_CHARACTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_HEX_DIGITS = b"0123456789ABCDEFabcdef"


@dataclass(frozen=True)
class _TextForm:
    """How line breaks are written: raw, or escaped inside a string literal."""

    newline: bytes
    carriage_return: bytes
    escaped: bool


_RAW = _TextForm(b"\n", b"\r", escaped=False)
_ESCAPED = _TextForm(b"\\n", b"\\r", escaped=True)


@dataclass(frozen=True)
class _Block:
    """A block cut out of ASCII text."""

    label: bytes
    form: _TextForm
    headers: dict[bytes, bytes]
    decoded: bytes


@dataclass(frozen=True)
class _Encoding:
    """The markers as stored: ASCII, or UTF-16 with two bytes a character.

    low_byte: where in each two-byte unit the ASCII byte is (1 for big-endian).
    """

    name: str
    width: int
    low_byte: int
    begin: bytes
    end: bytes
    dashes: bytes


def _encoded(name: str, width: int, codec: str) -> _Encoding:
    markers = (_BEGIN, _END, _DASHES)
    begin, end, dashes = (marker.decode("ascii").encode(codec) for marker in markers)
    return _Encoding(name, width, int(codec == "utf-16be"), begin, end, dashes)


_ASCII = _encoded("ascii", 1, "ascii")
_UTF16LE = _encoded("utf-16le", 2, "utf-16le")
_UTF16BE = _encoded("utf-16be", 2, "utf-16be")


class PemParser(Parser):
    name = "pem"
    max_length = MAX_LENGTH

    def parse(self, window: Window, position: int) -> Iterable[Candidate]:
        data = window.data
        encoding = _encoding_at(data, position)
        if encoding is None:
            return ()
        limit = _limit(data, position, self.max_length, encoding)
        end = _block_end(data, position, limit, encoding)
        if end is not None and _left_to_utf16le(data, end, encoding):
            return ()
        text = _narrow(data[position:end], encoding) if end is not None else None
        block = _read_block(text) if text is not None else None
        payload = _payload(block) if block is not None else None
        if end is None or block is None or payload is None:
            return ()
        name = encoding.name + ("-escaped" * block.form.escaped)
        return (Candidate("pem", name, window.start + position, end - position, payload),)


def _encoding_at(data: bytes, position: int) -> _Encoding | None:
    for encoding in (_ASCII, _UTF16LE, _UTF16BE):
        if data.startswith(encoding.begin, position):
            return encoding
    return None


def _limit(data: bytes, position: int, max_length: int, encoding: _Encoding) -> int:
    """Where the block must end; a UTF-16BE block leaves room for the byte after it."""
    reserved = 1 if encoding is _UTF16BE else 0
    return min(len(data), position + max_length - reserved)


def _left_to_utf16le(data: bytes, end: int, encoding: _Encoding) -> bool:
    """A UTF-16BE block followed by 0x00 is also UTF-16LE one byte on (module docstring)."""
    return encoding is _UTF16BE and data[end : end + 1] == b"\x00"


def _block_end(data: bytes, position: int, limit: int, encoding: _Encoding) -> int | None:
    """Offset just past the END line's last "-", found without copying the window.

    Base64, RFC 1421 headers and line breaks hold no "-----": the first one
    after the BEGIN line opens the END line.  So the bytes read for an anchor
    stop at the next "-----", and many anchors cost no more than one block.
    """
    width, dashes = encoding.width, encoding.dashes
    label_start = position + len(encoding.begin)
    label_limit = min(limit, label_start + (_MAX_LABEL + len(_DASHES)) * width)
    label_close = data.find(dashes, label_start, label_limit)
    end_open = data.find(dashes, label_close + len(dashes), limit) if label_close >= 0 else -1
    if end_open < 0 or not data.startswith(encoding.end, end_open):
        return None
    end_label = end_open + len(encoding.end)
    end_label_limit = min(limit, end_label + (_MAX_LABEL + len(_DASHES)) * width)
    end_close = data.find(dashes, end_label, end_label_limit)
    return end_close + len(dashes) if end_close >= 0 else None


def _narrow(raw: bytes, encoding: _Encoding) -> bytes | None:
    """The block as ASCII text; None if a UTF-16 code unit is not below 0x100."""
    if encoding.width == 1:
        return raw
    return narrow_utf16(raw, big_endian=encoding.low_byte == 1)


def _read_block(text: bytes) -> _Block | None:
    """`text` runs from the first "-" of the BEGIN line to the last "-" of the END line."""
    label_end = text.find(_DASHES, len(_BEGIN))
    label = text[len(_BEGIN) : max(label_end, len(_BEGIN))]
    end_line = text[-len(_END + label + _DASHES) :]
    body_start = label_end + len(_DASHES)
    body_end = len(text) - len(end_line)
    if label not in _LABELS or end_line != _END + label + _DASHES or body_end <= body_start:
        return None  # the END line closes another label: truncated or mismatched
    form = _line_form(text, body_start)
    lines = _body_lines(text[body_start:body_end], form) if form is not None else None
    parts = _split_headers(lines) if lines is not None else None
    decoded = _decode_base64(parts[1]) if parts is not None else None
    if form is None or parts is None or decoded is None:
        return None
    return _Block(label, form, parts[0], decoded)


def _line_form(text: bytes, position: int) -> _TextForm | None:
    """The form of the line break that ends the BEGIN line at `position`."""
    for form in (_RAW, _ESCAPED):
        if text.startswith(form.newline, position) or text.startswith(
            form.carriage_return + form.newline, position
        ):
            return form
    return None


def _body_lines(between: bytes, form: _TextForm) -> list[bytes] | None:
    """Lines between the BEGIN and END lines, without line breaks and indentation.

    `between` starts with the BEGIN line's break and ends with the END line's
    indentation; both ends must be empty once split.
    """
    if form.escaped:
        # JSON may escape "/" (a base64 character) and indent with "\t".
        between = between.replace(b"\\/", b"/").replace(b"\\t", b"\t")
    pieces = between.split(form.newline)
    lines = [piece.removesuffix(form.carriage_return).strip(b" \t") for piece in pieces]
    if len(lines) < 3 or lines[0] or lines[-1]:
        return None
    return lines[1:-1]


def _split_headers(lines: list[bytes]) -> tuple[dict[bytes, bytes], list[bytes]] | None:
    """RFC 1421 headers ("Name: value" lines ended by a blank line) and the base64 lines."""
    if b":" not in lines[0]:
        return {}, lines
    if b"" not in lines:
        return None
    blank = lines.index(b"")
    headers: dict[bytes, bytes] = {}
    for line in lines[:blank]:
        name, colon, value = line.partition(b":")
        if not colon:
            return None
        headers[name] = value.strip(b" \t")
    return headers, lines[blank + 1 :]


def _decode_base64(lines: list[bytes]) -> bytes | None:
    body = b"".join(lines)
    if not body or not all(lines) or body.translate(None, _BASE64_CHARACTERS):
        return None
    return decode_base64(body)


def _payload(block: _Block) -> Payload | None:
    if block.headers:
        return _legacy_payload(block)
    kind = _LABELS[block.label]
    if kind is PayloadKind.OPENSSH_PRIVATE:
        blob_length = openssh_blob_length(block.decoded)
        return Payload(kind, block.decoded) if blob_length == len(block.decoded) else None
    der_length = _der_sequence_length(block.decoded)
    if block.label == b"TRUSTED CERTIFICATE" and der_length is not None:
        # OpenSSL's X509_AUX trust settings follow the Certificate SEQUENCE.
        return Payload(kind, block.decoded[:der_length])
    return Payload(kind, block.decoded) if der_length == len(block.decoded) else None


def _der_sequence_length(der: bytes) -> int | None:
    """Total length of the DER SEQUENCE at der[0] (X.690 8.1.3), if it fits in `der`."""
    if len(der) < 2 or der[0] != 0x30:
        return None
    if der[1] < 0x80:
        total = 2 + der[1]
    else:
        length_bytes = der[1] & 0x7F
        if not 1 <= length_bytes <= 4 or len(der) < 2 + length_bytes:
            return None
        total = 2 + length_bytes + int.from_bytes(der[2 : 2 + length_bytes], "big")
    return total if total <= len(der) else None


def _legacy_payload(block: _Block) -> Payload | None:
    """RFC 1421 section 4.6.1.1 Proc-Type and 4.6.1.3 DEK-Info, as OpenSSL writes them."""
    algorithm = _LEGACY_ALGORITHMS.get(block.label)
    if algorithm is None or set(block.headers) != {b"Proc-Type", b"DEK-Info"}:
        return None
    if block.headers[b"Proc-Type"] != b"4,ENCRYPTED":
        return None
    cipher, _, iv_hex = block.headers[b"DEK-Info"].partition(b",")
    iv_length, block_size = _LEGACY_CIPHERS.get(cipher, (0, 0))
    valid_iv = len(iv_hex) == 2 * iv_length and not iv_hex.translate(None, _HEX_DIGITS)
    ciphertext = block.decoded
    if not iv_length or not valid_iv or len(ciphertext) % block_size:
        return None
    return Payload(PayloadKind.LEGACY_ENCRYPTED_PEM, ciphertext, algorithm_hint=algorithm)
