"""PuTTY private key files, PPK versions 2 and 3 (PuTTY manual, appendix C "PPK file format").

    PuTTY-User-Key-File-<2|3>: <key type>     ssh-rsa, ssh-dss, ecdsa-sha2-nistp256, ...
    Encryption: <none|aes256-cbc>
    Comment: <any bytes but CR and LF>
    Public-Lines: <n>                         n lines of base64: the RFC 4253 6.6 public
    ...                                       key blob (SSH wire format, in the clear)
    Key-Derivation: <Argon2id|Argon2i|Argon2d>  version 3 and encrypted only, with
    Argon2-Memory: / Argon2-Passes: / Argon2-Parallelism: <decimal>, Argon2-Salt: <hex>
    Private-Lines: <m>                        m lines of base64: the private blob,
    ...                                       AES-256-CBC encrypted when Encryption says so
    Private-MAC: <hex>                        HMAC-SHA-1 (v2, 40 digits), HMAC-SHA-256 (v3, 64)

Private blobs (appendix C.3): ssh-rsa mpint d, p, q, iqmp (= q^-1 mod p);
ssh-dss mpint x; ecdsa-sha2-* mpint d; ssh-ed25519 / ssh-ed448 string holding
the private integer little-endian (32 / 57 bytes; PuTTY before 0.75 dropped
high zero bytes).

An unencrypted key becomes the canonical DER of its algorithm (PKCS#1 with dP
and dQ computed, DSAPrivateKey, ECPrivateKey, OneAsymmetricKey v2), built from
both blobs so the prover checks that the private half belongs to the public
half.  An encrypted key is reported as encrypted, with the fingerprint of the
public blob.

The MAC is not verified.  It authenticates the file against tampering, but
what dumpguard reports is whether the bytes are a working private key, and the
prover decides that from the numbers: a file whose MAC was damaged still holds
a key that anyone can use (and PuTTY's own MAC key for an unencrypted file is
public).  Only its form is checked (hex digits of the version's length).

PuTTY writes LF line breaks and reads CR LF and CR too; in memory the text also
turns up in UTF-16LE (Windows strings) and inside string literals with escaped
line breaks.  The anchor is the "P" of "PuTTY-User-Key-File-"; the candidate
ends with the last MAC digit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from scanner.detectors.base import Candidate, Parser, Window
from scanner.detectors.der_spki import ED448, ED25519
from scanner.detectors.fields import FieldReader
from scanner.detectors.key_der import (
    RsaNumbers,
    dsa_private_der,
    dsa_public_spki,
    ec_private_der,
    ec_public_spki,
    raw_private_der,
    raw_public_spki,
    rsa_private_der,
    rsa_public_spki,
)
from scanner.detectors.text import decode_base64, narrow_utf16le_prefix
from scanner.keys.base import Payload, PayloadKind
from scanner.keys.ec import CURVE_BY_OID, Curve

MAGIC = b"PuTTY-User-Key-File-"
# An RSA-16384 key: public blob 2071 bytes (2764 base64 characters), private blob
# 5140 (6856): 9.6 K characters, 10 K with CR LF on 152 lines, plus a comment of
# up to _MAX_COMMENT and the header lines: 12 K characters, 24 KiB in UTF-16LE.
MAX_LENGTH = 32768
_MAX_COMMENT = 1024
_MAX_HEADER = 64  # every other header line is short
_MAX_LINES = 256  # 64 characters a line: a 12 KiB blob
_MAX_BASE64_LINE = 128  # PuTTY writes 64
_MAX_MPINT = 2049  # a 16384-bit number and its sign byte

_CURVES: dict[bytes, Curve] = {
    b"ecdsa-sha2-nistp256": CURVE_BY_OID["1.2.840.10045.3.1.7"],
    b"ecdsa-sha2-nistp384": CURVE_BY_OID["1.3.132.0.34"],
    b"ecdsa-sha2-nistp521": CURVE_BY_OID["1.3.132.0.35"],
}
_EDWARDS = {b"ssh-ed25519": ED25519, b"ssh-ed448": ED448}
_KEY_TYPES = frozenset({b"ssh-rsa", b"ssh-dss", *_CURVES, *_EDWARDS})
_ENCRYPTIONS = frozenset({b"none", b"aes256-cbc"})
_AES_BLOCK = 16
_ARGON2_VERSION = 3  # version 3 derives its keys with Argon2 (appendix C.5.2)
_ARGON2_FLAVOURS = frozenset({b"Argon2id", b"Argon2i", b"Argon2d"})
_ARGON2_NUMBERS = (b"Argon2-Memory", b"Argon2-Passes", b"Argon2-Parallelism")
_MAC_DIGITS = {2: 40, 3: 64}  # hex of HMAC-SHA-1 and HMAC-SHA-256
_HEX = re.compile(rb"[0-9a-fA-F]*")
_DECIMAL = re.compile(rb"[1-9][0-9]{0,9}")
_BASE64_LINE = re.compile(rb"[A-Za-z0-9+/]+={0,2}")


class _MalformedError(Exception):
    """Internal: the text is not a PPK file."""


@dataclass(frozen=True)
class _LineForm:
    """How line breaks are written: raw, or escaped inside a string literal."""

    name: str
    content: re.Pattern[bytes]  # what a line may hold: stops at the first break
    breaks: tuple[bytes, ...]  # longest first


_RAW = _LineForm("", re.compile(rb"[^\r\n]*"), (b"\r\n", b"\n", b"\r"))
_ESCAPED = _LineForm("-escaped", re.compile(rb"[^\r\n\\]*"), (b"\\r\\n", b"\\n"))


class _Lines:
    """Consecutive lines of `text`; each read is bounded, so garbage costs little."""

    def __init__(self, text: bytes, form: _LineForm) -> None:
        self._text = text
        self._form = form
        self.position = 0

    def line(self, max_length: int) -> bytes:
        start = self.position
        match = self._form.content.match(self._text, start, start + max_length + 1)
        end = match.end() if match is not None else start
        if end - start > max_length:
            raise _MalformedError
        for line_break in self._form.breaks:
            if self._text.startswith(line_break, end):
                self.position = end + len(line_break)
                return self._text[start:end]
        raise _MalformedError

    def header(self, name: bytes, max_length: int = _MAX_HEADER) -> bytes:
        """The value of a "Name: value" line (PuTTY writes exactly one space)."""
        prefix = name + b": "
        line = self.line(len(prefix) + max_length)
        if not line.startswith(prefix):
            raise _MalformedError
        return line[len(prefix) :]

    def count(self, name: bytes) -> int:
        value = self.header(name)
        if _DECIMAL.fullmatch(value) is None:
            raise _MalformedError
        return int(value)

    def base64_block(self, name: bytes) -> bytes:
        line_count = self.count(name)
        if line_count > _MAX_LINES:
            raise _MalformedError
        lines = [self.line(_MAX_BASE64_LINE) for _ in range(line_count)]
        if not all(_BASE64_LINE.fullmatch(line) for line in lines):
            raise _MalformedError
        decoded = decode_base64(b"".join(lines))
        if decoded is None:
            raise _MalformedError
        return decoded

    def hex_value(self, name: bytes, digits: int) -> None:
        """A last "Name: <hex>" field, which needs no line break after it."""
        prefix = name + b": "
        if not self._text.startswith(prefix, self.position):
            raise _MalformedError
        start = self.position + len(prefix)
        match = _HEX.match(self._text, start, start + digits + 1)
        if match is None or match.end() - start != digits:
            raise _MalformedError
        self.position = match.end()


@dataclass(frozen=True)
class PpkFile:
    """The fields of one PPK file; `length` is its size in the text it was read from."""

    version: int
    key_type: bytes
    encrypted: bool
    public_blob: bytes = field(repr=False)
    private_blob: bytes = field(repr=False)
    length: int
    form: str


def read_ppk(text: bytes) -> PpkFile | None:
    """The PPK file at text[0] (ASCII), or None."""
    try:
        return _read_ppk(text)
    except _MalformedError:
        return None


def _read_ppk(text: bytes) -> PpkFile:
    version, key_type, form = _first_line(text)
    lines = _Lines(text, form)
    lines.line(len(MAGIC) + len(b"2: ") + len(key_type))
    encryption = lines.header(b"Encryption")
    if encryption not in _ENCRYPTIONS:
        raise _MalformedError
    encrypted = encryption != b"none"
    lines.header(b"Comment", _MAX_COMMENT)
    public_blob = lines.base64_block(b"Public-Lines")
    if version == _ARGON2_VERSION and encrypted:
        _read_argon2_parameters(lines)
    private_blob = lines.base64_block(b"Private-Lines")
    lines.hex_value(b"Private-MAC", _MAC_DIGITS[version])
    return PpkFile(
        version, key_type, encrypted, public_blob, private_blob, lines.position, form.name
    )


def _first_line(text: bytes) -> tuple[int, bytes, _LineForm]:
    """The version and key type of the first line, and how that line ends."""
    if not text.startswith(MAGIC):
        raise _MalformedError
    version = text[len(MAGIC) : len(MAGIC) + 1]
    if version not in (b"2", b"3") or text[len(MAGIC) + 1 : len(MAGIC) + 3] != b": ":
        raise _MalformedError
    type_start = len(MAGIC) + 3
    for key_type in _KEY_TYPES:
        if not text.startswith(key_type, type_start):
            continue
        after = type_start + len(key_type)
        for form in (_RAW, _ESCAPED):
            if any(text.startswith(line_break, after) for line_break in form.breaks):
                return int(version), key_type, form
    raise _MalformedError


def _read_argon2_parameters(lines: _Lines) -> None:
    """Appendix C.4: the Argon2 flavour, its three parameters and a hex salt."""
    if lines.header(b"Key-Derivation") not in _ARGON2_FLAVOURS:
        raise _MalformedError
    for name in _ARGON2_NUMBERS:
        lines.count(name)
    salt = lines.header(b"Argon2-Salt")
    if not salt or len(salt) % 2 or _HEX.fullmatch(salt) is None:
        raise _MalformedError


# --- the blobs (RFC 4251 5 wire types) ------------------------------------------------


class _Blob(FieldReader):
    """A public or private blob: uint32-length strings and mpints."""

    error = _MalformedError

    def string(self, limit: int = _MAX_MPINT) -> bytes:
        length = self.big_endian(4)
        if length > limit:
            raise _MalformedError
        return self.take(length)

    def mpint(self) -> int:
        """A non-negative mpint (negative numbers are no key component)."""
        value = self.string()
        if value[:1] >= b"\x80":
            raise _MalformedError
        return int.from_bytes(value, "big")


def ppk_payload(ppk: PpkFile) -> Payload | None:
    """The DER the prover checks: the private key, or the public half of an encrypted one."""
    try:
        public = _Blob(ppk.public_blob)
        if public.string(64) != ppk.key_type:
            return None
        if ppk.encrypted:
            return _encrypted_payload(ppk, public)
        return _private_payload(ppk.key_type, public, _Blob(ppk.private_blob))
    except _MalformedError:
        return None


def _encrypted_payload(ppk: PpkFile, public: _Blob) -> Payload | None:
    if not ppk.private_blob or len(ppk.private_blob) % _AES_BLOCK:
        return None
    spki = _public_spki(ppk.key_type, public)
    return None if spki is None else Payload(PayloadKind.ENCRYPTED_SPKI, spki)


def _public_spki(key_type: bytes, public: _Blob) -> bytes | None:
    if key_type == b"ssh-rsa":
        e, n = public.mpint(), public.mpint()
        spki = rsa_public_spki(n, e)
    elif key_type == b"ssh-dss":
        p, q, g, y = (public.mpint() for _ in range(4))
        spki = dsa_public_spki(p, q, g, y)
    elif key_type in _CURVES:
        curve, point = _ec_public(key_type, public)
        spki = ec_public_spki(curve, point)
    else:
        spki = raw_public_spki(_EDWARDS[key_type], public.string())
    return spki if public.rest() == 0 else None


def _ec_public(key_type: bytes, public: _Blob) -> tuple[Curve, bytes]:
    """The curve name repeats the key type's suffix ("nistp256"), then the point Q."""
    if public.string(64) != key_type.removeprefix(b"ecdsa-sha2-"):
        raise _MalformedError
    return _CURVES[key_type], public.string()


def _private_payload(key_type: bytes, public: _Blob, private: _Blob) -> Payload | None:
    if key_type == b"ssh-rsa":
        e, n = public.mpint(), public.mpint()
        d, p, q, iqmp = (private.mpint() for _ in range(4))
        der = rsa_private_der(RsaNumbers(n=n, e=e, p=p, q=q, d=d, qinv=iqmp))
        kind = PayloadKind.PKCS1_PRIVATE
    elif key_type == b"ssh-dss":
        p, q, g, y = (public.mpint() for _ in range(4))
        der = dsa_private_der(p, q, g, y, private.mpint())
        kind = PayloadKind.DSA_PRIVATE
    elif key_type in _CURVES:
        curve, point = _ec_public(key_type, public)
        der = ec_private_der(curve, private.mpint(), point)
        kind = PayloadKind.SEC1_PRIVATE
    else:
        algorithm = _EDWARDS[key_type]
        size = algorithm.raw_key_bytes or 0
        public_key, private_le = public.string(), private.string(size)
        der = raw_private_der(algorithm, private_le.ljust(size, b"\x00"), public_key)
        kind = PayloadKind.PKCS8_PRIVATE
    # PuTTY pads only encrypted blobs (to the AES block); nothing may follow here.
    if der is None or public.rest() or private.rest() >= _AES_BLOCK:
        return None
    return Payload(kind, der)


# --- the parser ----------------------------------------------------------------------


_UTF16LE_MAGIC = MAGIC.decode("ascii").encode("utf-16le")


class PpkParser(Parser):
    name = "ppk"
    max_length = MAX_LENGTH

    def parse(self, window: Window, position: int) -> Iterable[Candidate]:
        raw = window.data[position : position + self.max_length]
        wide = raw.startswith(_UTF16LE_MAGIC)
        ppk = read_ppk(narrow_utf16le_prefix(raw) if wide else raw)
        payload = ppk_payload(ppk) if ppk is not None else None
        if ppk is None or payload is None:
            return ()
        encoding = f"ppk{ppk.version}" + ("-utf-16le" if wide else "") + ppk.form
        length = ppk.length * (2 if wide else 1)
        return (Candidate("ppk", encoding, window.start + position, length, payload),)
