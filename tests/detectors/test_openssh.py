"""OpenSSH key parsers on blobs written by ssh-keygen and cryptography (OpenSSH PROTOCOL.key).

The blobs are the bodies of the OPENSSH PRIVATE KEY artifacts of test_pem.py,
decoded by `openssl base64 -d`; payloads are compared by SHA-256 only.
"""

from __future__ import annotations

import base64
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.detectors.base import Candidate, Window
from scanner.detectors.openssh import (
    BASE64_MAGIC,
    MAGIC,
    MAX_BASE64_LENGTH,
    MAX_BLOB_LENGTH,
    OpenSshBase64Parser,
    OpenSshBinaryParser,
    openssh_blob_length,
)
from scanner.keys.base import PayloadKind

from .test_pem import artifact, background, digest, rewrap

BINARY = OpenSshBinaryParser()
BASE64 = OpenSshBase64Parser()
WINDOW_START = 0x5555_0000_0003
OPENSSH_ARTIFACTS = [
    "ssh-ed25519",
    "ssh-ecdsa521",
    "ssh-rsa2048-aes256ctr",
    "ssh-ecdsa256-chacha20",
    "ssh-ed25519-aes256gcm",
    "crypto-ssh-ed25519",
    "crypto-ssh-p384",
]
AEAD_TAG_LENGTH = {b"chacha20-poly1305@openssh.com": 16, b"aes256-gcm@openssh.com": 16}


def blob_of(name: str) -> bytes:
    item = artifact(name)
    assert item.kind is PayloadKind.OPENSSH_PRIVATE
    return item.expected


def parse_at(
    parser: OpenSshBinaryParser | OpenSshBase64Parser, data: bytes, position: int
) -> list[Candidate]:
    return list(parser.parse(Window(data, WINDOW_START, WINDOW_START + len(data)), position))


# --- an independent reading of the blob, to build broken and synthetic ones -------


def ssh_string(value: bytes) -> bytes:
    return len(value).to_bytes(4, "big") + value


@dataclass(frozen=True)
class BlobFields:
    cipher: bytes
    kdf: bytes
    kdf_options: bytes
    public_keys: tuple[bytes, ...]
    private: bytes = field(repr=False)
    tag: bytes = field(repr=False)
    key_count: int | None = None  # None: len(public_keys)

    def compose(self) -> bytes:
        count = len(self.public_keys) if self.key_count is None else self.key_count
        return b"".join(
            [
                MAGIC,
                ssh_string(self.cipher),
                ssh_string(self.kdf),
                ssh_string(self.kdf_options),
                count.to_bytes(4, "big"),
                *(ssh_string(key) for key in self.public_keys),
                ssh_string(self.private),
                self.tag,
            ]
        )


def decompose(blob: bytes) -> BlobFields:
    position = len(MAGIC)

    def take_string() -> bytes:
        nonlocal position
        length = int.from_bytes(blob[position : position + 4], "big")
        position += 4 + length
        return blob[position - length : position]

    cipher, kdf, kdf_options = take_string(), take_string(), take_string()
    count = int.from_bytes(blob[position : position + 4], "big")
    position += 4
    public_keys = tuple(take_string() for _ in range(count))
    private = take_string()
    tag = blob[position : position + AEAD_TAG_LENGTH.get(cipher, 0)]
    return BlobFields(cipher, kdf, kdf_options, public_keys, private, tag)


@pytest.mark.parametrize("name", OPENSSH_ARTIFACTS)
def test_independent_reading_round_trips(name: str) -> None:
    blob = blob_of(name)
    assert digest(decompose(blob).compose()) == digest(blob)


# --- the raw blob ------------------------------------------------------------------


@pytest.mark.parametrize("name", OPENSSH_ARTIFACTS)
@pytest.mark.parametrize("kind", ["random", "zeros"])
def test_binary_blob_gives_one_candidate(name: str, kind: str) -> None:
    blob = blob_of(name)
    before = background(kind, 2049, seed=1)
    data = before + blob + background(kind, 999, seed=2)
    assert openssh_blob_length(blob) == len(blob)
    [candidate] = parse_at(BINARY, data, len(before))
    assert (candidate.detector, candidate.encoding) == ("openssh", "binary")
    assert candidate.offset == WINDOW_START + len(before)
    assert candidate.length == len(blob)
    assert candidate.payload.kind is PayloadKind.OPENSSH_PRIVATE
    assert digest(candidate.payload.data) == digest(blob)


@pytest.mark.parametrize("name", ["ssh-ed25519", "ssh-ecdsa256-chacha20", "crypto-ssh-p384"])
def test_truncated_blob_gives_nothing(name: str) -> None:
    blob = blob_of(name)
    for length in range(len(blob)):
        assert parse_at(BINARY, blob[:length], 0) == [], length


def _broken_fields(fields: BlobFields) -> dict[str, BlobFields]:
    return {
        "unknown cipher": replace(fields, cipher=b"aes512-ctr"),
        "cipher none with bcrypt": replace(fields, cipher=b"none"),
        "kdf none with a cipher": replace(fields, kdf=b"none", kdf_options=b""),
        "unknown kdf": replace(fields, kdf=b"scrypt"),
        "bcrypt rounds 0": replace(fields, kdf_options=ssh_string(b"s" * 16) + bytes(4)),
        "bcrypt options trailing": replace(fields, kdf_options=fields.kdf_options + b"\x00"),
        "no keys": replace(fields, key_count=0),
        "four billion keys": replace(fields, key_count=0xFFFFFFFF),
        "key type not a name": replace(fields, public_keys=(b"\x00\x00\x00\x03a\x00b",)),
        "empty private section": replace(fields, private=b""),
        "private section not whole blocks": replace(fields, private=fields.private[:-1]),
    }


@pytest.mark.parametrize("name", ["ssh-rsa2048-aes256ctr", "ssh-ed25519-aes256gcm"])
def test_broken_encrypted_fields_give_nothing(name: str) -> None:
    fields = decompose(blob_of(name))
    for what, broken in _broken_fields(fields).items():
        data = broken.compose()
        assert parse_at(BINARY, data, 0) == [], what
        assert parse_at(BINARY, data + bytes(64), 0) == [], what


def test_plaintext_section_needs_equal_check_integers() -> None:
    fields = decompose(blob_of("ssh-ed25519"))
    assert fields.cipher == b"none"
    private = bytearray(fields.private)
    private[0] ^= 0x01
    assert parse_at(BINARY, replace(fields, private=bytes(private)).compose(), 0) == []
    assert parse_at(BINARY, replace(fields, private=fields.private + b"\x01").compose(), 0) == []


def test_huge_length_fields_give_nothing() -> None:
    huge = b"\xff\xff\xff\xff"
    for data in (
        MAGIC + huge,
        MAGIC + ssh_string(b"none") + huge,
        MAGIC + ssh_string(b"none") * 3 + b"\x00\x00\x00\x01" + huge,
    ):
        assert parse_at(BINARY, data + bytes(64), 0) == []


# --- the base64 run -------------------------------------------------------------------


def _body(text: str) -> str:
    return "\n".join(text.splitlines()[1:-1])


BASE64_FORMS: dict[str, Callable[[str], str]] = {
    "as-written": lambda t: t,
    "crlf": lambda t: t.replace("\n", "\r\n"),
    "indented": lambda t: "".join("    " + line for line in t.splitlines(keepends=True)),
    "one-line": lambda t: rewrap(t, None),
    "config-value": lambda t: 'private_key = "' + _body(t).replace("\n", "\n  ") + '"\n',
    "bare-lines-then-nul": lambda t: _body(t) + "\x00",
}


@pytest.mark.parametrize("form", list(BASE64_FORMS))
@pytest.mark.parametrize("name", OPENSSH_ARTIFACTS)
def test_base64_run_gives_one_candidate(name: str, form: str) -> None:
    text = BASE64_FORMS[form](artifact(name).text).encode()
    anchor = text.index(BASE64_MAGIC)
    run_end = anchor + len(_body_bytes_in(text, anchor))
    before = random.Random(anchor).randbytes(777) + b"\n"
    data = before + text + bytes(64)
    [candidate] = parse_at(BASE64, data, len(before) + anchor)
    assert (candidate.detector, candidate.encoding) == ("openssh", "base64")
    assert candidate.offset == WINDOW_START + len(before) + anchor
    assert candidate.length == run_end - anchor
    assert candidate.payload.kind is PayloadKind.OPENSSH_PRIVATE
    assert digest(candidate.payload.data) == digest(blob_of(name))


def _body_bytes_in(text: bytes, anchor: int) -> bytes:
    """From the anchor to the last base64 character of the run (found without the parser)."""
    stops = [text.find(stop, anchor) for stop in (b"-----END", b'"', b"\x00")]
    end = min(stop for stop in stops if stop >= 0)
    return text[anchor:end].rstrip(b" \t\r\n")


@pytest.mark.parametrize("name", ["ssh-ed25519", "ssh-rsa2048-aes256ctr"])
def test_base64_run_cut_at_any_line_gives_nothing(name: str) -> None:
    lines = artifact(name).text.splitlines(keepends=True)[1:-1]
    for kept in range(1, len(lines)):
        data = "".join(lines[:kept]).encode() + b"\x00" * 8
        assert parse_at(BASE64, data, 0) == [], kept


def test_base64_run_broken_by_escaped_newlines_is_left_to_the_pem_parser() -> None:
    body = _body(artifact("ssh-ed25519").text).replace("\n", "\\n")
    assert parse_at(BASE64, body.encode() + b'"', 0) == []


def test_junk_inside_the_base64_run_gives_nothing() -> None:
    body = _body(artifact("ssh-ecdsa521").text)
    for junk in ("!", "\x00", "-", " "):
        broken = body[:200] + junk + body[201:]
        assert parse_at(BASE64, broken.encode(), 0) == [], repr(junk)


# --- max_length ----------------------------------------------------------------------


def mpint_length(bits: int) -> int:
    """Most bytes an SSH mpint below 2**bits takes (RFC 4251 section 5: 0x00 first if needed)."""
    return 4 + bits // 8 + 1


def rsa_blob_length(bits: int, cipher: bytes, comment_length: int) -> int:
    """Largest openssh-key-v1 blob of an RSA key with e = 65537 (sshkey.c, PROTOCOL.key)."""
    block_size, tag_length = (8, 0) if cipher == b"none" else (16, AEAD_TAG_LENGTH.get(cipher, 0))
    kdf = b"none" if cipher == b"none" else b"bcrypt"
    kdf_options = 0 if cipher == b"none" else 4 + 16 + 4
    header = len(MAGIC) + 4 + len(cipher) + 4 + len(kdf) + 4 + kdf_options + 4
    key_type = 4 + len(b"ssh-rsa")
    public = 4 + key_type + mpint_length(17) + mpint_length(bits)
    private = (
        8
        + key_type
        + mpint_length(bits)
        + mpint_length(17)
        + mpint_length(bits)
        + 3 * mpint_length(bits // 2)
        + 4
        + comment_length
    )
    padded = private + block_size - 1  # sshkey_private_to_blob2 pads with 0..block-1 bytes
    return header + public + 4 + padded - padded % block_size + tag_length


def test_blob_length_formula_bounds_a_real_key() -> None:
    real = len(blob_of("ssh-rsa2048-aes256ctr"))
    formula = rsa_blob_length(2048, b"aes256-ctr", len("test@dumpguard"))
    assert real <= formula <= real + 32


def base64_run_characters(blob_length: int, line_break: str, indentation: str) -> int:
    """ssh-keygen wraps base64 at 70 characters (sshkey.c, sshkey_private_to_fileblob)."""
    characters = 4 * -(-blob_length // 3)
    lines = -(-characters // 70)
    return characters + (lines - 1) * (len(line_break) + len(indentation))


def test_max_lengths_cover_rsa16384_with_a_long_comment() -> None:
    largest_rsa = rsa_blob_length(16384, b"chacha20-poly1305@openssh.com", 0)
    assert largest_rsa + 6900 <= MAX_BLOB_LENGTH
    # the module comment promises CRLF and 33 characters of indentation on every line
    assert base64_run_characters(MAX_BLOB_LENGTH, "\r\n", " " * 33) <= MAX_BASE64_LENGTH
    assert base64_run_characters(MAX_BLOB_LENGTH, "\r\n", " " * 34) > MAX_BASE64_LENGTH


def synthetic_blob(length: int, seed: int) -> bytes:
    """A plaintext blob of exactly `length` bytes (the parser proves nothing)."""
    rng = random.Random(seed)
    bare = BlobFields(b"none", b"none", b"", (ssh_string(b"ssh-rsa"),), b"", b"")
    # public key filler chosen so that the private section is whole 8-byte blocks
    filler = 100 + (length - len(bare.compose()) - 100) % 8
    public_key = ssh_string(b"ssh-rsa") + rng.randbytes(filler)
    fields = replace(bare, public_keys=(public_key,))
    check = rng.randbytes(4)
    private = check + check + rng.randbytes(length - len(fields.compose()) - 8)
    blob = replace(fields, private=private).compose()
    assert len(blob) == length
    assert len(private) % 8 == 0
    return blob


@pytest.mark.parametrize("extra", [-8, 0, 8])
def test_binary_blob_up_to_max_length_is_found_at_the_window_edge(extra: int) -> None:
    blob = synthetic_blob(MAX_BLOB_LENGTH + extra, seed=extra + 100)
    position = 4095
    data = bytes(position) + blob + random.Random(5).randbytes(MAX_BLOB_LENGTH)
    window = data[: position + MAX_BLOB_LENGTH]
    found = parse_at(BINARY, window, position)
    assert found == parse_at(BINARY, data, position)
    assert [c.length for c in found] == ([len(blob)] if extra <= 0 else [])


def _wrapped(blob: bytes, line_break: str, indentation: str) -> bytes:
    text = base64.b64encode(blob).decode()
    lines = [text[i : i + 70] for i in range(0, len(text), 70)]
    return (line_break + indentation).join(lines).encode()


def test_largest_base64_run_is_found_in_a_window_cut_at_position_plus_max_length() -> None:
    blob = synthetic_blob(MAX_BLOB_LENGTH, seed=7)
    run = _wrapped(blob, "\r\n", " " * 33)
    assert len(run) <= MAX_BASE64_LENGTH
    position = 333
    data = b"k" * position + run + b"\r\n" + random.Random(9).randbytes(MAX_BASE64_LENGTH)
    [candidate] = parse_at(BASE64, data[: position + MAX_BASE64_LENGTH], position)
    assert candidate.length == len(run)
    assert digest(candidate.payload.data) == digest(blob)


# --- hypothesis: garbage never raises, never reads past max_length -------------------


@settings(max_examples=300, deadline=None)
@given(tail=st.binary(max_size=400), prefix=st.binary(max_size=7))
def test_random_bytes_after_the_magic_never_raise(tail: bytes, prefix: bytes) -> None:
    position = len(prefix)
    for candidate in parse_at(BINARY, prefix + MAGIC + tail, position):
        assert candidate.offset == WINDOW_START + position
        assert candidate.length <= len(MAGIC) + len(tail)
    encoded = base64.b64encode(MAGIC + tail)
    for candidate in parse_at(BASE64, prefix + encoded, position):
        assert candidate.length <= len(encoded)


@settings(max_examples=200, deadline=None)
@given(
    cipher=st.sampled_from([b"none", b"aes256-ctr", b"chacha20-poly1305@openssh.com", b""]),
    kdf=st.sampled_from([b"none", b"bcrypt", b"\x00"]),
    kdf_options=st.binary(max_size=40),
    public_keys=st.lists(st.binary(max_size=40), max_size=3),
    private=st.binary(max_size=96),
    tag=st.binary(max_size=20),
    key_count=st.none() | st.integers(0, 2**32 - 1),
)
def test_random_structured_blobs_never_raise(
    *,
    cipher: bytes,
    kdf: bytes,
    kdf_options: bytes,
    public_keys: list[bytes],
    private: bytes,
    tag: bytes,
    key_count: int | None,
) -> None:
    blob = BlobFields(
        cipher, kdf, kdf_options, tuple(public_keys), private, tag, key_count
    ).compose()
    for candidate in parse_at(BINARY, blob, 0):
        assert candidate.length <= len(blob)
    text = base64.b64encode(blob)
    for candidate in parse_at(BASE64, text + b"\n", 0):
        assert candidate.length <= len(text)


@settings(max_examples=60, deadline=None)
@given(tail=st.binary(min_size=1, max_size=128), name=st.sampled_from(OPENSSH_ARTIFACTS))
def test_bytes_beyond_position_plus_max_length_change_nothing(tail: bytes, name: str) -> None:
    blob = blob_of(name)
    data = blob + bytes(MAX_BLOB_LENGTH - len(blob))
    assert parse_at(BINARY, data, 0) == parse_at(BINARY, data + tail, 0)
    text = artifact(name).text.encode()
    anchor = text.index(BASE64_MAGIC)
    run = text[anchor:] + b"A" * (MAX_BASE64_LENGTH - len(text) + anchor)
    assert parse_at(BASE64, run, 0) == parse_at(BASE64, run + tail, 0)


class _UnboundedBinaryParser(OpenSshBinaryParser):
    max_length = 1 << 40


class _UnboundedBase64Parser(OpenSshBase64Parser):
    max_length = 1 << 40


def _plausible_header() -> bytes:
    """A blob start that passes every check until its private section length."""
    fields = BlobFields(b"none", b"none", b"", (ssh_string(b"ssh-ed25519"),), b"", b"")
    return fields.compose()[:-4] + (1 << 20).to_bytes(4, "big")


@pytest.mark.parametrize(
    ("parser", "unit"),
    [
        (_UnboundedBinaryParser(), MAGIC),
        (_UnboundedBinaryParser(), _plausible_header()),
        (_UnboundedBase64Parser(), BASE64_MAGIC),
        (_UnboundedBase64Parser(), base64.b64encode(_plausible_header() + b"\x00")),
    ],
    ids=["magic", "plausible-header", "base64-magic", "base64-plausible-header"],
)
def test_dense_anchors_cost_no_more_than_their_distance(
    parser: OpenSshBinaryParser | OpenSshBase64Parser, unit: bytes
) -> None:
    """A hostile dump repeating the magic: each anchor reads a bounded number of bytes."""
    data = unit * 60_000
    window = Window(data, 0, len(data))
    started = time.monotonic()
    found = [
        candidate
        for position in range(0, len(data), len(unit))
        for candidate in parser.parse(window, position)
    ]
    assert found == []
    assert time.monotonic() - started < 5.0  # about 0.2 s; reading to the window end takes minutes
