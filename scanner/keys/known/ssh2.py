"""SSH2 public key files (RFC 4716), as `ssh-keygen -e` and commercial SSH servers write them.

    ---- BEGIN SSH2 PUBLIC KEY ----
    Comment: "user@host"
    AAAAC3NzaC1lZDI1NTE5AAAA...
    ---- END SSH2 PUBLIC KEY ----

Header lines are "Tag: value" (RFC 4716 3.3) and continue onto the next line
when they end in a backslash; the body is the base64 of the SSH wire-format
key (RFC 4253 6.6), whose first field names the key type.  The "Comment"
header, when present, is the key's id.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm

from scanner.keys.known.base import KnownKeyLoader, LoadedKey, known_key_error, loaded_key, where
from scanner.keys.known.ssh import parse_openssh_key

_BEGIN_LINE = "---- BEGIN SSH2 PUBLIC KEY ----"
_END_LINE = "---- END SSH2 PUBLIC KEY ----"
_PRINTABLE_NAME = re.compile(rb"[\x21-\x7e]+")  # RFC 4251 6: names are printable US-ASCII
_MAX_KEY_TYPE_LENGTH = 64  # longest registered name is ~40 ("sk-ecdsa-sha2-nistp256-cert-v01@...")


@dataclass(frozen=True)
class _Block:
    line: int
    index: int
    headers: dict[str, str]
    body: str


class Ssh2Loader(KnownKeyLoader):
    name = "ssh2"

    def probe(self, data: bytes, path: Path) -> bool:
        return _BEGIN_LINE.encode() in data

    def load(self, data: bytes, path: Path) -> list[LoadedKey]:
        lines = [line.strip() for line in data.decode("utf-8", errors="replace").split("\n")]
        return [_block_key(block, path) for block in _blocks(lines, path)]


def _blocks(lines: list[str], path: Path) -> list[_Block]:
    blocks: list[_Block] = []
    begin_indexes = [number for number, line in enumerate(lines) if line == _BEGIN_LINE]
    for begin in begin_indexes:
        try:
            end = lines.index(_END_LINE, begin + 1)
        except ValueError:
            end = -1
        if end < 0 or any(line == _BEGIN_LINE for line in lines[begin + 1 : end]):
            raise known_key_error(path, begin + 1, "SSH2 public key block has no END line")
        headers, body = _split_headers(lines[begin + 1 : end])
        blocks.append(_Block(begin + 1, len(blocks) + 1, headers, body))
    return blocks


def _split_headers(block_lines: list[str]) -> tuple[dict[str, str], str]:
    """Headers (lower-cased tags) and the joined base64 body of one block."""
    headers: dict[str, str] = {}
    position = 0
    while position < len(block_lines) and ":" in block_lines[position]:
        value = block_lines[position]
        while value.endswith("\\") and position + 1 < len(block_lines):  # RFC 4716 3.3 continuation
            position += 1
            value = value[:-1] + block_lines[position]
        tag, _, header_value = value.partition(":")
        headers[tag.strip().lower()] = header_value.strip()
        position += 1
    return headers, "".join(block_lines[position:])


def _block_key(block: _Block, path: Path) -> LoadedKey:
    try:
        blob = base64.b64decode(block.body, validate=True)
    except ValueError:  # binascii.Error, or a non-ASCII character in the body
        reason = "SSH2 public key body is not valid base64"
        raise known_key_error(path, block.line, reason) from None
    key_type = _wire_key_type(blob)
    if key_type is None:
        raise known_key_error(path, block.line, "SSH2 public key body does not parse")
    try:
        public_key = parse_openssh_key(key_type + b" " + base64.b64encode(blob))
    except UnsupportedAlgorithm:
        raise known_key_error(path, block.line, "SSH2 public key type is not supported") from None
    except ValueError:
        raise known_key_error(path, block.line, "SSH2 public key body does not parse") from None
    comment = block.headers.get("comment", "").strip('"')
    return loaded_key(public_key, comment or f"{path}#{block.index}", where(path, block.line))


def _wire_key_type(blob: bytes) -> bytes | None:
    """The leading SSH string (RFC 4251 5: uint32 length, bytes), if it is a plausible name."""
    length = int.from_bytes(blob[:4], "big")
    key_type = blob[4 : 4 + length]
    if len(blob) < 4 or not 0 < length <= _MAX_KEY_TYPE_LENGTH or len(key_type) != length:
        return None
    return key_type if _PRINTABLE_NAME.fullmatch(key_type) else None
