"""OpenSSH private keys: the openssh-key-v1 blob, raw or base64 (OpenSSH PROTOCOL.key).

Blob layout (all integers big-endian, "string" = uint32 length + bytes):

    "openssh-key-v1\\0"
    string  ciphername          "none", "aes256-ctr", ... (cipher.c)
    string  kdfname             "none" or "bcrypt"
    string  kdfoptions          "" or (string salt, uint32 rounds) for bcrypt
    uint32  nkeys
    string  publickey           nkeys times
    string  private section     encrypted, padded to the cipher's block size
    byte[]  auth tag            authlen bytes, only for AEAD ciphers (sshkey.c,
                                sshkey_private_to_blob2: not counted in the length)

Two parsers share the structure check: one anchored on the raw magic (a key
decoded in memory), one on the base64 of the magic (a key file's body, as
pasted into a config).  Inside an "OPENSSH PRIVATE KEY" PEM block the base64
parser fires too, at an offset inside the PEM candidate; the findings stage
merges the two.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from scanner.detectors.base import Candidate, Parser, Window
from scanner.detectors.text import decode_whole_quanta
from scanner.keys.base import Payload, PayloadKind

MAGIC = b"openssh-key-v1\x00"
# base64 of MAGIC starts a base64 run at a 3-byte boundary; its 20th character
# ("A") also carries bits of the byte after the magic, so rules anchor on 19.
BASE64_MAGIC = b"b3BlbnNzaC1rZXktdjE"

# The largest blob accepted: an RSA-16384 key is about 9.4 KB (public key 2.1 KB,
# private section n, e, d, iqmp, p, q 7.2 KB, header 90 B); 16 KiB leaves about
# 6.9 KB for the comment.
MAX_BLOB_LENGTH = 16384
# Base64 of MAX_BLOB_LENGTH bytes is 21848 characters; ssh-keygen wraps at 70,
# i.e. 313 lines: 32 KiB leaves room for CRLF and 33 characters of indentation
# on every line.
MAX_BASE64_LENGTH = 32768

# cipher name -> (block size, AEAD tag length), from OpenSSH cipher.c.
_CIPHERS: dict[bytes, tuple[int, int]] = {
    b"none": (8, 0),
    b"3des-cbc": (8, 0),
    b"aes128-cbc": (16, 0),
    b"aes192-cbc": (16, 0),
    b"aes256-cbc": (16, 0),
    b"rijndael-cbc@lysator.liu.se": (16, 0),
    b"aes128-ctr": (16, 0),
    b"aes192-ctr": (16, 0),
    b"aes256-ctr": (16, 0),
    b"aes128-gcm@openssh.com": (16, 16),
    b"aes256-gcm@openssh.com": (16, 16),
    b"chacha20-poly1305@openssh.com": (8, 16),
}
_MAX_NAME = 64  # cipher, kdf and key-type names are short ASCII words
_NAME_CHARACTERS = bytes(range(0x21, 0x7F))
_MAX_KEYS = 8  # OpenSSH itself only reads nkeys == 1
_MAX_SALT = 64  # ssh-keygen writes a 16-byte bcrypt salt

_BASE64_SEGMENT = re.compile(rb"[A-Za-z0-9+/]*={0,2}")  # one character class: linear
_INDENT = b" \t"


class _MalformedError(Exception):
    """Internal: the bytes are not an openssh-key-v1 blob."""


class _Reader:
    """Bounded reads of SSH wire types (RFC 4251 section 5) from data[offset:end].

    Long fields are skipped, not copied: the bytes read for an anchor stay few
    however many anchors a window holds.
    """

    def __init__(self, data: bytes, offset: int, end: int) -> None:
        self.data = data
        self.offset = offset
        self._end = end

    def skip(self, count: int) -> int:
        """Advance `count` bytes; returns where they start."""
        start = self.offset
        if count < 0 or start + count > self._end:
            raise _MalformedError
        self.offset = start + count
        return start

    def take(self, count: int) -> bytes:
        start = self.skip(count)
        return self.data[start : self.offset]

    def uint32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def string_span(self, limit: int) -> tuple[int, int]:
        """[start, end) of a string's bytes in data."""
        length = self.uint32()
        if length > limit:
            raise _MalformedError
        return self.skip(length), self.offset

    def string(self, limit: int) -> bytes:
        start, end = self.string_span(limit)
        return self.data[start:end]

    def name(self) -> bytes:
        value = self.string(_MAX_NAME)
        if not value or value.translate(None, _NAME_CHARACTERS):
            raise _MalformedError
        return value


def openssh_blob_length(data: bytes, start: int = 0, end: int | None = None) -> int | None:
    """Exact byte length of the openssh-key-v1 blob at data[start] within data[:end], or None."""
    end = len(data) if end is None else min(end, len(data))
    if not data.startswith(MAGIC, start, end):
        return None
    reader = _Reader(data, start + len(MAGIC), end)
    try:
        cipher = _read_cipher_and_kdf(reader)
        for _ in range(_read_key_count(reader)):
            _read_public_key(reader)
        _read_private_section(reader, cipher)
        reader.skip(_CIPHERS[cipher][1])  # the AEAD tag follows the section
    except _MalformedError:
        return None
    return reader.offset - start


def _read_cipher_and_kdf(reader: _Reader) -> bytes:
    cipher = reader.name()
    kdf = reader.name()
    kdf_options = reader.string(_MAX_SALT + 8)
    # sshkey_parse_private2: cipher "none" goes with kdf "none" and nothing else.
    if cipher not in _CIPHERS or (cipher == b"none") != (kdf == b"none"):
        raise _MalformedError
    if kdf == b"bcrypt":
        _check_bcrypt_options(kdf_options)
    elif kdf != b"none" or kdf_options:
        raise _MalformedError
    return cipher


def _check_bcrypt_options(kdf_options: bytes) -> None:
    options = _Reader(kdf_options, 0, len(kdf_options))
    salt = options.string(_MAX_SALT)
    rounds = options.uint32()
    if not salt or rounds == 0 or options.offset != len(kdf_options):
        raise _MalformedError


def _read_key_count(reader: _Reader) -> int:
    count = reader.uint32()
    if not 1 <= count <= _MAX_KEYS:
        raise _MalformedError
    return count


def _read_public_key(reader: _Reader) -> None:
    start, end = reader.string_span(MAX_BLOB_LENGTH)
    _Reader(reader.data, start, end).name()  # its key type, "ssh-ed25519", ...


def _read_private_section(reader: _Reader, cipher: bytes) -> None:
    start, end = reader.string_span(MAX_BLOB_LENGTH)
    block_size = _CIPHERS[cipher][0]
    if end == start or (end - start) % block_size:
        raise _MalformedError
    # A plaintext section opens with the same random check integer twice.
    check = reader.data[start : start + 8]
    if cipher == b"none" and check[0:4] != check[4:8]:
        raise _MalformedError


def _payload(blob: bytes) -> Payload:
    return Payload(PayloadKind.OPENSSH_PRIVATE, blob)


class OpenSshBinaryParser(Parser):
    """The raw blob, as OpenSSH holds it after reading or before writing a key file."""

    name = "openssh-binary"
    max_length = MAX_BLOB_LENGTH

    def parse(self, window: Window, position: int) -> Iterable[Candidate]:
        data = window.data
        blob_length = openssh_blob_length(data, position, position + self.max_length)
        if blob_length is None:
            return ()
        blob = data[position : position + blob_length]
        return (
            Candidate("openssh", "binary", window.start + position, blob_length, _payload(blob)),
        )


class OpenSshBase64Parser(Parser):
    """The blob's base64 run (line breaks and indentation allowed between lines)."""

    name = "openssh-base64"
    max_length = MAX_BASE64_LENGTH

    def parse(self, window: Window, position: int) -> Iterable[Candidate]:
        data = window.data
        segments = _base64_segments(data, position, _run_limit(data, position, self.max_length))
        characters = b"".join(data[start:end] for start, end in segments)
        decoded = decode_whole_quanta(characters)
        blob_length = openssh_blob_length(decoded) if decoded is not None else None
        if decoded is None or blob_length is None:
            return ()
        run_end = _run_end(segments, _encoding_length(blob_length, characters))
        blob = decoded[:blob_length]
        offset = window.start + position
        return (Candidate("openssh", "base64", offset, run_end - position, _payload(blob)),)


def _run_limit(data: bytes, position: int, max_length: int) -> int:
    """Where the run at `position` must end: max_length on, or at the next anchor.

    A blob's base64 holds the magic's base64 only if the blob holds
    "openssh-key-v1" at a 3-byte boundary after its start, which keys do not;
    stopping there keeps the bytes read per anchor below the distance to the
    next anchor, however densely a hostile input repeats it.
    """
    limit = min(len(data), position + max_length)
    next_anchor = data.find(BASE64_MAGIC, position + 1, limit)
    return limit if next_anchor < 0 else next_anchor


def _base64_segments(data: bytes, start: int, limit: int) -> list[tuple[int, int]]:
    """[start, end) of each line of the base64 run at data[start], within data[:limit].

    A line ends at the first non-base64 character; the run goes on after a
    line break ("\\n" or "\\r\\n") plus indentation, and stops after padding.
    """
    segments: list[tuple[int, int]] = []
    position = start
    while True:
        match = _BASE64_SEGMENT.match(data, position, limit)
        if match is None or match.end() == position:
            return segments
        segments.append((position, match.end()))
        if data[match.end() - 1 : match.end()] == b"=":
            return segments
        next_line = _next_line_start(data, match.end(), limit)
        if next_line is None:
            return segments
        position = next_line


def _next_line_start(data: bytes, position: int, limit: int) -> int | None:
    if data.startswith(b"\r\n", position, limit):
        position += 2
    elif data.startswith(b"\n", position, limit):
        position += 1
    else:
        return None
    while position < limit and data[position] in _INDENT:
        position += 1
    return position


def _encoding_length(blob_length: int, characters: bytes) -> int:
    """Base64 characters that encode blob_length bytes, with the padding after them."""
    significant = -(-blob_length * 4 // 3)
    padded = -(-blob_length // 3) * 4
    padding = characters[significant:padded]
    return padded if padding == b"=" * (padded - significant) else significant


def _run_end(segments: list[tuple[int, int]], characters: int) -> int:
    """Offset in data just past the `characters`-th base64 character of the run."""
    remaining = characters
    for start, end in segments:
        if remaining <= end - start:
            return start + remaining
        remaining -= end - start
    return segments[-1][1]
