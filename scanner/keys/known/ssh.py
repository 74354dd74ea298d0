"""OpenSSH one-line public keys: *.pub files, authorized_keys and known_hosts.

Line layout (sshd(8) "AUTHORIZED_KEYS FILE FORMAT", sshd(8) "SSH_KNOWN_HOSTS
FILE FORMAT"):

    [options] keytype base64-blob [comment]          authorized_keys
    [@marker] hostnames keytype base64-blob [comment] known_hosts

Options are comma-separated with no spaces except inside double quotes
(`command="echo hi there"`), so fields are split on whitespace outside quotes
and the key type is looked for in the first three fields.  Blank lines and
lines starting with "#" are skipped.  Certificates (*-cert-v01@openssh.com)
load the key they certify; sk-* (FIDO) keys load their public key.  Private
OpenSSH keys are PEM-armoured: the PEM loader, probed first, refuses them.
"""

from __future__ import annotations

import re
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from scanner.keys.known.base import (
    KnownKeyLoader,
    LoadedKey,
    known_key_error,
    loaded_key,
    quiet_deprecations,
    where,
)

# ssh-rsa, ssh-dss, ssh-ed25519, ecdsa-sha2-nistp256, sk-ssh-ed25519@openssh.com,
# ssh-ed25519-cert-v01@openssh.com, ...: the names of PROTOCOL, PROTOCOL.certkeys, PROTOCOL.u2f.
_KEY_TYPE_PATTERN = r"(?:sk-)?(?:ssh|ecdsa-sha2)-[a-z0-9-]+(?:@openssh\.com)?"
_KEY_TYPE = re.compile(_KEY_TYPE_PATTERN)
# A key type followed by a blob: the blob starts with a 4-byte length < 2**24, so "AAAA".
_KEY_LINE = re.compile(rb"(?:^|\s)" + _KEY_TYPE_PATTERN.encode() + rb"[ \t]+AAAA")
_FIELD_SEPARATOR = re.compile(r"[ \t]+")
# The key type is field 1, 2 (after options or hostnames) or 3 (after a known_hosts @marker).
_MAX_FIELDS_BEFORE_BLOB = 3


class SshLoader(KnownKeyLoader):
    name = "openssh"

    def probe(self, data: bytes, path: Path) -> bool:
        return b"\0" not in data and _KEY_LINE.search(data) is not None

    def load(self, data: bytes, path: Path) -> list[LoadedKey]:
        text = data.decode("utf-8", errors="replace")  # only comments may be non-ASCII
        keys: list[LoadedKey] = []
        for line_number, raw_line in enumerate(text.split("\n"), start=1):
            line = raw_line.strip()
            if line and not line.startswith("#"):
                keys.append(_load_line(line, path, line_number))
        return keys


def _load_line(line: str, path: Path, line_number: int) -> LoadedKey:
    key_type, rest = _find_key_type(line, path, line_number)
    blob, _, comment = _FIELD_SEPARATOR.sub(" ", rest, count=1).partition(" ")
    if not blob:
        raise known_key_error(path, line_number, f"key type {key_type} without key data")
    try:
        public_key = parse_openssh_key(f"{key_type} {blob}".encode())
    except UnsupportedAlgorithm:
        raise known_key_error(path, line_number, f"unsupported key type {key_type}") from None
    except ValueError:
        raise known_key_error(path, line_number, f"{key_type} key data does not parse") from None
    key_id = comment.strip() or f"{path}#{line_number}"
    return loaded_key(public_key, key_id, where(path, line_number))


def parse_openssh_key(key_line: bytes) -> PublicKeyTypes:
    """cryptography's parser; ValueError or UnsupportedAlgorithm for a bad key."""
    with quiet_deprecations():  # cryptography warns that it will drop ssh-dss
        try:
            return serialization.load_ssh_public_key(key_line)
        except NotImplementedError:  # "Need uncompressed point": a compressed ECDSA point
            raise ValueError("unusable OpenSSH public key") from None


def _find_key_type(line: str, path: Path, line_number: int) -> tuple[str, str]:
    """The key type field and the text after it (blob and comment).

    A known_hosts host may itself look like a key type ("ssh-gw"), so a
    candidate followed by "AAAA" (every blob starts so, RFC 4251 5: a uint32
    length under 2**24) wins over one that is not.
    """
    candidates: list[tuple[str, str]] = []
    rest = line
    for _ in range(_MAX_FIELDS_BEFORE_BLOB):
        field, rest = _take_field(rest, path, line_number)
        if _KEY_TYPE.fullmatch(field):
            if rest.startswith("AAAA"):
                return field, rest
            candidates.append((field, rest))
        if not rest:
            break
    if candidates:
        return candidates[0]
    raise known_key_error(path, line_number, "no OpenSSH key type (ssh-ed25519, ssh-rsa, ...)")


def _take_field(text: str, path: Path, line_number: int) -> tuple[str, str]:
    """Split off the first field: whitespace ends it unless inside double quotes."""
    in_quotes = False
    position = 0
    while position < len(text):
        char = text[position]
        if in_quotes and char == "\\" and text[position + 1 : position + 2] == '"':
            position += 2  # an escaped quote inside an option value
            continue
        if char == '"':
            in_quotes = not in_quotes
        elif char in " \t" and not in_quotes:
            break
        position += 1
    if in_quotes:
        raise known_key_error(path, line_number, "unterminated quote in key options")
    return text[:position], text[position:].lstrip(" \t")
