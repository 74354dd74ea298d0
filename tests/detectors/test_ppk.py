"""PuTTY PPK files (versions 2 and 3): the parser, the rule under both engines, the CLI.

Most files are written by `ppk_file` below, exactly as the PuTTY manual's appendix C
("PPK file format") specifies them: header lines, 64-character base64 lines,
the private blob encrypted with AES-256-CBC (v2: key from SHA-1 of a sequence
number and the passphrase, zero IV; v3: Argon2id via `cryptography`), and the
MAC (v2: HMAC-SHA-1 keyed by SHA-1("putty-private-key-file-mac-key" +
passphrase); v3: HMAC-SHA-256 keyed by the Argon2 output, or the empty key).
The public blobs are checked against `cryptography`'s own OpenSSH encoding.
Keys are made by `cryptography` at test time; payloads and key bytes never
reach an assertion message (fingerprints only).

Real files: where puttygen (Debian package putty-tools) is on PATH, it makes
every key type PuTTY 0.78 has, saved as PPK 2 and 3, unencrypted and
encrypted (Argon2id, Argon2i and Argon2d), and each file is planted in a raw
file and scanned by the CLI; the expected fingerprint comes from puttygen's
own OpenSSH public key export.  The same files check the writer: it writes
puttygen's unencrypted files byte for byte, and its key derivation opens
puttygen's encrypted ones.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import random
import shutil
import subprocess
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.utils import CryptographyDeprecationWarning
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.config import EngineName
from scanner.detectors import PARSERS
from scanner.detectors.base import Candidate, Window
from scanner.detectors.engines import build_engine
from scanner.detectors.ppk import MAGIC, MAX_LENGTH, PpkParser
from scanner.errors import KeyProofError
from scanner.keys.base import Key, KeyKind, PayloadKind
from scanner.keys.fingerprint import fingerprint_public_key
from scanner.keys.prove import prove

from .containers_for import HOLDERS, LEAD_BYTES, region_bytes, scan_findings

PARSER = PpkParser()
WINDOW_START = 0x1_0000_0003
RULE_FILE = Path(__file__).resolve().parents[2] / "rules" / "ppk.yar"
PASSPHRASE = b"dumpguard ppk passphrase"
CURVE_NAMES = {"secp256r1": b"nistp256", "secp384r1": b"nistp384", "secp521r1": b"nistp521"}


# --- the spec-exact writer (PuTTY manual appendix C) --------------------------------


def ssh_string(value: bytes) -> bytes:
    return len(value).to_bytes(4, "big") + value


def mpint(value: int) -> bytes:
    """RFC 4251 5 mpint of a non-negative number: minimal two's complement, zero is empty."""
    return ssh_string(value.to_bytes(value.bit_length() // 8 + 1, "big") if value else b"")


def key_type(key: PrivateKeyTypes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return b"ssh-rsa"
    if isinstance(key, dsa.DSAPrivateKey):
        return b"ssh-dss"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return b"ecdsa-sha2-" + CURVE_NAMES[key.curve.name]
    return b"ssh-ed25519" if isinstance(key, ed25519.Ed25519PrivateKey) else b"ssh-ed448"


def raw_public(key: ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def raw_private(key: ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def public_blob(key: PrivateKeyTypes) -> bytes:
    """RFC 4253 6.6 / RFC 5656 3.1 / RFC 8709 4 public key blob."""
    name = key_type(key)
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.public_key().public_numbers()
        return ssh_string(name) + mpint(numbers.e) + mpint(numbers.n)
    if isinstance(key, dsa.DSAPrivateKey):
        public = key.public_key().public_numbers()
        group = public.parameter_numbers
        fields = (group.p, group.q, group.g, public.y)
        return ssh_string(name) + b"".join(mpint(value) for value in fields)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        point = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return ssh_string(name) + ssh_string(CURVE_NAMES[key.curve.name]) + ssh_string(point)
    assert isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey)
    return ssh_string(name) + ssh_string(raw_public(key))


def private_blob(key: PrivateKeyTypes, short_edwards: bool = False) -> bytes:
    """Appendix C.3; `short_edwards`: PuTTY < 0.75 dropped high zero bytes of the EdDSA key."""
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.private_numbers()
        fields = (numbers.d, numbers.p, numbers.q, numbers.iqmp)
        return b"".join(mpint(value) for value in fields)
    if isinstance(key, dsa.DSAPrivateKey):
        return mpint(key.private_numbers().x)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return mpint(key.private_numbers().private_value)
    assert isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey)
    private = raw_private(key)
    return ssh_string(private.rstrip(b"\x00") if short_edwards else private)


@dataclass(frozen=True)
class Argon2Parameters:
    flavour: bytes = b"Argon2id"
    memory: int = 8192
    passes: int = 3
    parallelism: int = 1
    salt: bytes = field(default=b"\x5a" * 16, repr=False)


def base64_lines(blob: bytes) -> list[bytes]:
    text = base64.b64encode(blob)
    return [text[start : start + 64] for start in range(0, len(text), 64)]


def v2_cipher_key(passphrase: bytes) -> bytes:
    """C.5.1: SHA-1(00000000 || passphrase) || SHA-1(00000001 || passphrase), first 32 bytes."""
    first, second = (hashlib.sha1(bytes([0, 0, 0, n]) + passphrase).digest() for n in (0, 1))
    return (first + second)[:32]


def argon2_output(passphrase: bytes, parameters: Argon2Parameters) -> bytes:
    """C.5.2: 80 bytes of Argon2 (only Argon2id is in `cryptography`)."""
    kdf = Argon2id(
        salt=parameters.salt,
        length=80,
        iterations=parameters.passes,
        lanes=parameters.parallelism,
        memory_cost=parameters.memory,
    )
    return kdf.derive(passphrase)


def aes256_cbc(key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(plaintext) + encryptor.finalize()


@dataclass(frozen=True)
class PpkOptions:
    version: int = 3
    comment: bytes = b"dumpguard-test-key"
    passphrase: bytes | None = None
    argon2: Argon2Parameters = Argon2Parameters()
    short_edwards: bool = False


def ppk_file(key: PrivateKeyTypes, options: PpkOptions = PpkOptions()) -> bytes:
    """A PPK file with LF line breaks, as PuTTYgen saves it (sshpubk.c ppk_save_sb)."""
    name, public = key_type(key), public_blob(key)
    private = private_blob(key, options.short_edwards)
    encryption = b"none" if options.passphrase is None else b"aes256-cbc"
    kdf_lines: list[bytes] = []
    if options.passphrase is None:
        mac_key = b"" if options.version == 3 else hashlib.sha1(MAC_KEY_LABEL).digest()
        stored = private
    else:
        stored, mac_key, kdf_lines, private = encrypt(private, options)
    mac_input = b"".join(map(ssh_string, (name, encryption, options.comment, public, private)))
    digest = hashlib.sha256 if options.version == 3 else hashlib.sha1
    mac = hmac.new(mac_key, mac_input, digest).hexdigest().encode()
    public_lines, private_lines = base64_lines(public), base64_lines(stored)
    lines = [
        b"PuTTY-User-Key-File-%d: %s" % (options.version, name),
        b"Encryption: " + encryption,
        b"Comment: " + options.comment,
        b"Public-Lines: %d" % len(public_lines),
        *public_lines,
        *kdf_lines,
        b"Private-Lines: %d" % len(private_lines),
        *private_lines,
        b"Private-MAC: " + mac,
    ]
    return b"\n".join(lines) + b"\n"


MAC_KEY_LABEL = b"putty-private-key-file-mac-key"


def encrypt(private: bytes, options: PpkOptions) -> tuple[bytes, bytes, list[bytes], bytes]:
    """(ciphertext, MAC key, Key-Derivation lines, padded plaintext the MAC covers)."""
    passphrase = options.passphrase or b""
    padded = private + os.urandom(-len(private) % 16)
    if options.version == 2:
        ciphertext = aes256_cbc(v2_cipher_key(passphrase), bytes(16), padded)
        return ciphertext, hashlib.sha1(MAC_KEY_LABEL + passphrase).digest(), [], padded
    argon2 = options.argon2
    derived = argon2_output(passphrase, argon2)
    lines = [
        b"Key-Derivation: " + argon2.flavour,
        b"Argon2-Memory: %d" % argon2.memory,
        b"Argon2-Passes: %d" % argon2.passes,
        b"Argon2-Parallelism: %d" % argon2.parallelism,
        b"Argon2-Salt: " + argon2.salt.hex().encode(),
    ]
    return aes256_cbc(derived[:32], derived[32:48], padded), derived[48:80], lines, padded


# --- keys ------------------------------------------------------------------------------


def _dsa_key() -> dsa.DSAPrivateKey:
    return dsa.generate_private_key(1024)


KEY_MAKERS: dict[str, Callable[[], PrivateKeyTypes]] = {
    "rsa2048": lambda: rsa.generate_private_key(65537, 2048),
    "dsa1024": _dsa_key,
    "p256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "p384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "p521": lambda: ec.generate_private_key(ec.SECP521R1()),
    "ed25519": ed25519.Ed25519PrivateKey.generate,
    "ed448": ed448.Ed448PrivateKey.generate,
}
_KEYS: dict[str, PrivateKeyTypes] = {}


def sample_key(name: str) -> PrivateKeyTypes:
    if name not in _KEYS:
        _KEYS[name] = KEY_MAKERS[name]()
    return _KEYS[name]


def fingerprint(key: PrivateKeyTypes) -> str:
    return fingerprint_public_key(key.public_key())


def parse_at(data: bytes, position: int) -> list[Candidate]:
    return list(PARSER.parse(Window(data, WINDOW_START, WINDOW_START + len(data)), position))


def only_key(data: bytes, position: int = 0) -> tuple[Candidate, Key]:
    [candidate] = parse_at(data, position)
    return candidate, prove(candidate.payload)


# --- the writer agrees with other encoders ---------------------------------------------


@pytest.mark.parametrize("name", ["rsa2048", "dsa1024", "p256", "p521", "ed25519"])
def test_writer_public_blob_is_the_openssh_wire_blob(name: str) -> None:
    key = sample_key(name)
    line = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    assert public_blob(key) == base64.b64decode(line.split()[1])


# --- unencrypted files: proven private keys ----------------------------------------------


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("name", list(KEY_MAKERS))
def test_unencrypted_file_proves_as_the_private_key(name: str, version: int) -> None:
    key = sample_key(name)
    text = ppk_file(key, PpkOptions(version=version))
    before = random.Random(version).randbytes(1001)
    candidate, proven = only_key(before + text + b"\n\0garbage", len(before))
    assert (candidate.detector, candidate.encoding) == ("ppk", f"ppk{version}")
    assert candidate.offset == WINDOW_START + len(before)
    assert candidate.length == len(text) - 1  # up to the last MAC digit
    assert proven.kind is KeyKind.PRIVATE
    assert proven.fingerprint == fingerprint(key)


def test_payload_is_the_canonical_der_of_each_algorithm() -> None:
    expected = {
        "rsa2048": PayloadKind.PKCS1_PRIVATE,
        "dsa1024": PayloadKind.DSA_PRIVATE,
        "p384": PayloadKind.SEC1_PRIVATE,
        "ed448": PayloadKind.PKCS8_PRIVATE,
    }
    for name, kind in expected.items():
        [candidate] = parse_at(ppk_file(sample_key(name)), 0)
        assert candidate.payload.kind is kind, name


def test_rsa_payload_equals_the_traditional_der_cryptography_writes() -> None:
    key = sample_key("rsa2048")
    [candidate] = parse_at(ppk_file(key), 0)
    traditional = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    assert hashlib.sha256(candidate.payload.data).digest() == hashlib.sha256(traditional).digest()


def test_eddsa_key_with_high_zero_bytes_dropped_by_old_puttygen_proves() -> None:
    seed = os.urandom(30) + b"\x00\x00"
    key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    text = ppk_file(key, PpkOptions(version=2, short_edwards=True))
    private_line = text.split(b"Private-Lines: 1\n")[1].split(b"\n")[0]
    stored_length = base64.b64decode(private_line)[:4]
    assert stored_length == (30).to_bytes(4, "big")  # the string drops the two zero bytes
    assert only_key(text)[1].fingerprint == fingerprint(key)


@pytest.mark.parametrize("version", [2, 3])
def test_tampered_mac_is_still_a_key(version: int) -> None:
    """A damaged MAC does not make the numbers any less a working key (see ppk.py)."""
    key = sample_key("ed25519")
    text = ppk_file(key, PpkOptions(version=version))
    mac_start = text.index(b"Private-MAC: ") + len(b"Private-MAC: ")
    flipped = b"0" if text[mac_start : mac_start + 1] != b"0" else b"1"
    tampered = text[:mac_start] + flipped + text[mac_start + 1 :]
    _, proven = only_key(tampered)
    assert (proven.kind, proven.fingerprint) == (KeyKind.PRIVATE, fingerprint(key))


@pytest.mark.parametrize("version", [2, 3])
def test_mac_of_the_other_version_length_gives_nothing(version: int) -> None:
    text = ppk_file(sample_key("p256"), PpkOptions(version=version)).rstrip(b"\n")
    digits = 64 if version == 2 else 40
    head, _, mac = text.rpartition(b": ")
    assert parse_at(head + b": " + (mac * 2)[:digits], 0) == []
    assert parse_at(head + b": " + mac + b"a", 0) == []


def test_private_blob_of_another_key_does_not_prove() -> None:
    key, other = sample_key("rsa2048"), rsa.generate_private_key(65537, 2048)
    text = ppk_file(key)
    swapped = ppk_file(other)
    mixed = text[: text.index(b"Private-Lines")] + swapped[swapped.index(b"Private-Lines") :]
    assert parse_at(mixed, 0) == []  # p*q is not the public n


def test_eddsa_private_half_of_another_key_fails_the_proof() -> None:
    key, other = sample_key("ed25519"), ed25519.Ed25519PrivateKey.generate()
    text, swapped = ppk_file(key), ppk_file(other)
    mixed = text[: text.index(b"Private-Lines")] + swapped[swapped.index(b"Private-Lines") :]
    [candidate] = parse_at(mixed, 0)
    with pytest.raises(KeyProofError):
        prove(candidate.payload)


def test_unknown_key_type_encryption_and_version_give_nothing() -> None:
    text = ppk_file(sample_key("p256"))
    for old, new in [
        (b"File-3: ecdsa-sha2-nistp256", b"File-3: ecdsa-sha2-nistp999"),
        (b"Encryption: none", b"Encryption: aes128-cbc"),
        (b"File-3:", b"File-4:"),
        (b"File-3:", b"File-1:"),
        (b"Public-Lines: ", b"Public-Lines:"),
        (b"Public-Lines: 3", b"Public-Lines: 03"),
        (b"Comment:", b"Remark:"),
    ]:
        assert old in text
        assert parse_at(text.replace(old, new), 0) == [], new


# --- encrypted files: reported as encrypted, with the public key's fingerprint -------------


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("name", ["rsa2048", "dsa1024", "p521", "ed25519", "ed448"])
def test_encrypted_file_is_an_encrypted_key_with_its_fingerprint(name: str, version: int) -> None:
    key = sample_key(name)
    text = ppk_file(key, PpkOptions(version=version, passphrase=PASSPHRASE))
    candidate, proven = only_key(text)
    assert candidate.payload.kind is PayloadKind.ENCRYPTED_SPKI
    assert candidate.length == len(text) - 1
    assert proven.kind is KeyKind.ENCRYPTED
    assert proven.fingerprint == fingerprint(key)


@pytest.mark.parametrize("flavour", [b"Argon2i", b"Argon2d"])
def test_every_argon2_flavour_header_is_read(flavour: bytes) -> None:
    key = sample_key("ed25519")
    text = ppk_file(key, PpkOptions(passphrase=PASSPHRASE))
    flavoured = text.replace(b"Key-Derivation: Argon2id", b"Key-Derivation: " + flavour)
    assert only_key(flavoured)[1].kind is KeyKind.ENCRYPTED


def test_encrypted_file_with_broken_fields_gives_nothing() -> None:
    text = ppk_file(sample_key("p256"), PpkOptions(passphrase=PASSPHRASE))
    salt_line = text[text.index(b"Argon2-Salt: ") :].split(b"\n")[0]
    for old, new in [
        (b"Argon2id", b"scrypt"),
        (b"Argon2-Memory: 8192", b"Argon2-Memory: 0"),
        (b"Argon2-Passes: 3", b"Argon2-Passes: x"),
        (salt_line, salt_line[:-1]),
        (b"Key-Derivation: Argon2id\n", b""),
    ]:
        assert parse_at(text.replace(old, new), 0) == [], new
    # v3 without a passphrase has no Key-Derivation lines: they make it malformed
    plain = ppk_file(sample_key("p256"))
    kdf = text[text.index(b"Key-Derivation") : text.index(b"Private-Lines")]
    with_kdf = plain.replace(b"Private-Lines", kdf + b"Private-Lines")
    assert parse_at(with_kdf, 0) == []


def test_encrypted_private_blob_not_whole_aes_blocks_gives_nothing() -> None:
    text = ppk_file(sample_key("ed25519"), PpkOptions(version=2, passphrase=PASSPHRASE))
    lines = text.split(b"\n")
    index = lines.index(b"Private-Lines: 1") + 1
    blob = base64.b64decode(lines[index])
    lines[index] = base64.b64encode(blob[:-1])
    assert parse_at(b"\n".join(lines), 0) == []


# --- text forms --------------------------------------------------------------------------


def utf16le(text: bytes) -> bytes:
    return text.decode("latin-1").encode("utf-16-le")


TEXT_FORMS: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "crlf": (lambda t: t.replace(b"\n", b"\r\n"), ""),
    "cr": (lambda t: t.replace(b"\n", b"\r"), ""),
    "escaped": (lambda t: t.replace(b"\n", b"\\n"), "-escaped"),
    "escaped-crlf": (lambda t: t.replace(b"\n", b"\\r\\n"), "-escaped"),
    "utf-16le": (utf16le, "-utf-16le"),
}


@pytest.mark.parametrize("form", list(TEXT_FORMS))
def test_text_forms_are_read(form: str) -> None:
    convert, suffix = TEXT_FORMS[form]
    key = sample_key("p256")
    text = ppk_file(key, PpkOptions(version=2, comment=b"caf\xe9 key")).rstrip(b"\n")
    converted = convert(text)
    data = b'{"ppk": "' + converted + b'"}' if form.startswith("escaped") else converted
    position = data.index(convert(MAGIC))
    candidate, proven = only_key(data, position)
    assert candidate.encoding == "ppk2" + suffix
    assert candidate.length == len(converted)
    assert proven.fingerprint == fingerprint(key)


def test_utf16le_text_cut_by_a_wide_character_gives_nothing() -> None:
    text = utf16le(ppk_file(sample_key("ed25519")))
    cut = text.index(utf16le(b"Private-Lines"))
    assert parse_at(text[:cut] + "\u4e2d".encode("utf-16-le") + text[cut:], 0) == []


# --- garbage, truncation and bounds ----------------------------------------------------------


def test_every_truncation_gives_nothing() -> None:
    text = ppk_file(sample_key("ed25519")).rstrip(b"\n")
    for length in range(len(text)):
        assert parse_at(text[:length], 0) == [], length


def test_file_longer_than_max_length_gives_nothing_and_reads_no_further() -> None:
    key = sample_key("ed25519")
    long_comment = ppk_file(key, PpkOptions(comment=b"c" * 1024))
    assert only_key(long_comment)[1].fingerprint == fingerprint(key)
    too_long = ppk_file(key, PpkOptions(comment=b"c" * 1025))
    assert parse_at(too_long, 0) == []
    many_lines = MAGIC + b"3: ssh-rsa\nEncryption: none\nComment: x\nPublic-Lines: 9999\n"
    assert parse_at(many_lines + b"AAAA\n" * 9999, 0) == []


def test_largest_form_of_a_large_key_fits_max_length() -> None:
    """RSA-4096, CR LF, a 1024-character comment, UTF-16LE: well inside MAX_LENGTH, which
    ppk.py sizes for RSA-16384 (each blob grows linearly with the modulus)."""
    key = rsa.generate_private_key(65537, 4096)
    text = ppk_file(key, PpkOptions(comment=b"c" * 1024)).replace(b"\n", b"\r\n")
    wide = utf16le(text)
    assert len(wide) < MAX_LENGTH / 2
    assert only_key(wide)[1].fingerprint == fingerprint(key)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.sampled_from([b"2: ssh-rsa\n", b"3: ssh-ed25519\r\n", b"3"]))
def test_random_bytes_after_the_magic_give_nothing(tail: bytes, head: bytes) -> None:
    assert parse_at(MAGIC + head + tail, 0) == []


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_file_never_raises(data: st.DataObject) -> None:
    text = bytearray(ppk_file(sample_key("p256")))
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(text) - 1))
        text[index] = data.draw(st.integers(0, 255))
    for candidate in parse_at(bytes(text), 0):
        with contextlib.suppress(KeyProofError):
            prove(candidate.payload)


# --- the rule, under both engines -----------------------------------------------------------


@pytest.mark.parametrize("engine_name", [EngineName.YARA_X, EngineName.YARA_PYTHON])
def test_rule_anchors_ascii_and_utf16le_files_for_the_parser(engine_name: EngineName) -> None:
    engine = build_engine(engine_name, [RULE_FILE])
    key = sample_key("ed25519")
    text = ppk_file(key)
    noise = random.Random(7)
    data = noise.randbytes(4097) + text + bytes(999) + utf16le(text) + noise.randbytes(513)
    offsets = sorted(match.offset for match in engine.scan(data).matches)
    assert offsets == [4097, 4097 + len(text) + 999]
    assert {match.parser for match in engine.scan(data).matches} == {"ppk"}
    assert isinstance(PARSERS["ppk"], PpkParser)
    for offset in offsets:
        assert only_key(data, offset)[1].fingerprint == fingerprint(key)


# --- the CLI: raw file, ELF core, minidump, gzip ------------------------------------------------


@pytest.mark.parametrize("holder", list(HOLDERS))
def test_cli_finds_plain_and_encrypted_ppk_in_each_input(holder: str, tmp_path: Path) -> None:
    plain_key, encrypted_key = sample_key("rsa2048"), sample_key("p256")
    plain = ppk_file(plain_key, PpkOptions(version=2))
    encrypted = utf16le(ppk_file(encrypted_key, PpkOptions(passphrase=PASSPHRASE)))
    gap = bytes(301)
    planted = HOLDERS[holder](tmp_path, plain + gap + encrypted)
    findings = {f["fingerprint"]: f for f in scan_findings(planted.path)}
    assert set(findings) == {fingerprint(plain_key), fingerprint(encrypted_key)}
    found_plain, found_encrypted = (
        findings[fingerprint(plain_key)],
        findings[fingerprint(encrypted_key)],
    )
    assert (found_plain["detector"], found_plain["encoding"]) == ("ppk", "ppk2")
    assert (found_plain["kind"], found_plain["severity"]) == ("private-key", "high")
    assert found_plain["offset"] == planted.offset
    assert (found_encrypted["kind"], found_encrypted["severity"]) == (
        "encrypted-private-key",
        "medium",
    )
    assert found_encrypted["encoding"] == "ppk3-utf-16le"
    assert found_encrypted["offset"] == planted.offset + len(plain) + len(gap)
    if planted.address is not None:
        assert found_plain["address"] == planted.address


# --- real files made by puttygen (putty-tools) ---------------------------------------------

PUTTYGEN = shutil.which("puttygen")
PUTTYGEN_COMMENT = b"dumpguard puttygen key"
# puttygen -t/-b for each key type PuTTY 0.78 makes.
PUTTYGEN_KEY_TYPES: dict[str, tuple[str, ...]] = {
    "rsa2048": ("-t", "rsa", "-b", "2048"),
    "dsa1024": ("-t", "dsa", "-b", "1024"),
    "p256": ("-t", "ecdsa", "-b", "256"),
    "p384": ("-t", "ecdsa", "-b", "384"),
    "p521": ("-t", "ecdsa", "-b", "521"),
    "ed25519": ("-t", "ed25519"),
    "ed448": ("-t", "ed448"),
}


@dataclass(frozen=True)
class PuttygenSave:
    """How puttygen re-saves a key: PPK version, with a passphrase or not, --ppk-param extras."""

    version: int
    encrypted: bool
    extra_params: str = ""


PUTTYGEN_SAVES = {
    "v2": PuttygenSave(2, encrypted=False),
    "v3": PuttygenSave(3, encrypted=False),
    "v2-encrypted": PuttygenSave(2, encrypted=True),
    "v3-encrypted": PuttygenSave(3, encrypted=True),  # Argon2id, passes tuned to 100 ms
    "v3-encrypted-argon2i": PuttygenSave(3, True, "kdf=argon2i,memory=1024,passes=2,parallelism=2"),
    "v3-encrypted-argon2d": PuttygenSave(3, True, "kdf=argon2d,passes=1"),
}
PUTTYGEN_CASES = [
    *((key_name, save) for key_name in PUTTYGEN_KEY_TYPES for save in list(PUTTYGEN_SAVES)[:4]),
    ("ed25519", "v3-encrypted-argon2i"),
    ("p384", "v3-encrypted-argon2d"),
]


@dataclass(frozen=True)
class PuttygenKey:
    """One key made by puttygen: its PPK files by save name, its OpenSSH exports."""

    files: dict[str, bytes] = field(repr=False)
    openssh_private: bytes = field(repr=False)
    fingerprint: str  # from the OpenSSH public key line, independently of dumpguard


def run_puttygen(*args: str | Path) -> None:
    """puttygen without a terminal: passphrases come from files, stdin is empty."""
    assert PUTTYGEN is not None
    result = subprocess.run(
        [PUTTYGEN, *map(str, args)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")[-500:]


def make_puttygen_key(directory: Path, key_name: str) -> PuttygenKey:
    """Generate one key (saved unencrypted as PPK 3), then re-save it every way
    (`-P` with --new-passphrase: an empty file saves it unencrypted) and export it."""
    empty, passphrase = directory / "empty-passphrase", directory / "passphrase"
    empty.write_bytes(b"")
    passphrase.write_bytes(PASSPHRASE)
    generated = directory / f"{key_name}.ppk"
    keygen = ("-q", "-C", PUTTYGEN_COMMENT.decode(), "--new-passphrase", empty, "-o", generated)
    run_puttygen(*PUTTYGEN_KEY_TYPES[key_name], *keygen)
    files = {}
    for save_name, save in PUTTYGEN_SAVES.items():
        params = ",".join(filter(None, [f"version={save.version}", save.extra_params]))
        saved = directory / f"{key_name}-{save_name}.ppk"
        new_passphrase = passphrase if save.encrypted else empty
        run_puttygen(generated, "-P", "--new-passphrase", new_passphrase, "-O", "private",
                     "--ppk-param", params, "-o", saved)  # fmt: skip
        files[save_name] = saved.read_bytes()
    run_puttygen(generated, "-O", "public-openssh", "-o", directory / f"{key_name}.pub")
    run_puttygen(generated, "-O", "private-openssh-new", "-o", directory / f"{key_name}.openssh")
    return PuttygenKey(
        files,
        (directory / f"{key_name}.openssh").read_bytes(),
        openssh_line_fingerprint((directory / f"{key_name}.pub").read_bytes()),
    )


def openssh_line_fingerprint(line: bytes) -> str:
    """SHA-256 of the DER SPKI of an OpenSSH public key line, read by `cryptography`.

    `cryptography` reads no ssh-ed448 line; that blob (RFC 8709 4: string
    "ssh-ed448", string key) is cut here and its 57 bytes handed to Ed448PublicKey.
    """
    public_key: PublicKeyTypes
    key_type_name, blob_base64 = line.split()[:2]
    if key_type_name == b"ssh-ed448":
        blob = base64.b64decode(blob_base64)
        key_start = 4 + int.from_bytes(blob[:4], "big") + 4
        public_key = ed448.Ed448PublicKey.from_public_bytes(blob[key_start:])
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)  # ssh-dss
            public_key = serialization.load_ssh_public_key(line)
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(spki).hexdigest()


@pytest.fixture(scope="module")
def puttygen_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PuttygenKey]:
    if PUTTYGEN is None:
        pytest.skip("puttygen is not on PATH (Debian package putty-tools): no real PPK files")
    directory = tmp_path_factory.mktemp("puttygen")
    return {key_name: make_puttygen_key(directory, key_name) for key_name in PUTTYGEN_KEY_TYPES}


@pytest.fixture(scope="module")
def puttygen_findings(
    puttygen_keys: dict[str, PuttygenKey], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[dict[str, Any]]]:
    """Each puttygen file planted in a raw file of its own (after LEAD_BYTES random bytes),
    all scanned by one run of the CLI; the findings by file name."""
    directory = tmp_path_factory.mktemp("puttygen-planted")
    paths = []
    for seed, (key_name, save_name) in enumerate(PUTTYGEN_CASES):
        path = directory / f"{key_name}-{save_name}.bin"
        path.write_bytes(region_bytes(puttygen_keys[key_name].files[save_name], seed))
        paths.append(path)
    by_file: dict[str, list[dict[str, Any]]] = {path.name: [] for path in paths}
    for finding in scan_findings(*paths):
        by_file[Path(finding["path"]).name].append(finding)
    return by_file


@pytest.mark.parametrize(("key_name", "save_name"), PUTTYGEN_CASES)
def test_puttygen_file_in_a_raw_file_is_found_with_its_fingerprint(
    puttygen_keys: dict[str, PuttygenKey],
    puttygen_findings: dict[str, list[dict[str, Any]]],
    key_name: str,
    save_name: str,
) -> None:
    key, save = puttygen_keys[key_name], PUTTYGEN_SAVES[save_name]
    text = key.files[save_name]
    assert text.startswith(b"PuTTY-User-Key-File-%d: " % save.version)  # what was asked for
    assert (b"\nEncryption: aes256-cbc\n" in text) is save.encrypted

    [finding] = puttygen_findings[f"{key_name}-{save_name}.bin"]

    assert (finding["detector"], finding["encoding"]) == ("ppk", f"ppk{save.version}")
    assert finding["kind"] == ("encrypted-private-key" if save.encrypted else "private-key")
    assert finding["severity"] == ("medium" if save.encrypted else "high")
    assert finding["fingerprint"] == key.fingerprint
    assert (finding["offset"], finding["length"]) == (LEAD_BYTES, len(text) - 1)


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("key_name", [name for name in PUTTYGEN_KEY_TYPES if name != "ed448"])
def test_spec_writer_writes_what_puttygen_writes(
    puttygen_keys: dict[str, PuttygenKey], key_name: str, version: int
) -> None:
    """The writer above, given puttygen's key (exported as OpenSSH; `cryptography` reads no
    ssh-ed448 private key), writes puttygen's unencrypted file byte for byte."""
    key = puttygen_keys[key_name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)  # ssh-dss
        private_key = serialization.load_ssh_private_key(key.openssh_private, None)
    written = ppk_file(private_key, PpkOptions(version=version, comment=PUTTYGEN_COMMENT))
    real = key.files[f"v{version}"]
    assert hashlib.sha256(written).digest() == hashlib.sha256(real).digest()


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("key_name", list(PUTTYGEN_KEY_TYPES))
def test_spec_writer_key_derivation_opens_puttygen_files(
    puttygen_keys: dict[str, PuttygenKey], key_name: str, version: int
) -> None:
    """The writer's C.5 key derivation opens puttygen's encrypted file: the plaintext starts
    with the private blob of the unencrypted file, and the MAC matches."""
    key = puttygen_keys[key_name]
    encrypted = ppk_fields(key.files[f"v{version}-encrypted"])
    plain_private = ppk_fields(key.files[f"v{version}"])[b"Private-Lines"]
    cipher_key, iv, mac_key = derived_keys(encrypted, version)
    decryptor = Cipher(algorithms.AES(cipher_key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(encrypted[b"Private-Lines"]) + decryptor.finalize()
    fields = (encrypted[b"key type"], b"aes256-cbc", PUTTYGEN_COMMENT)
    mac_input = b"".join(map(ssh_string, (*fields, encrypted[b"Public-Lines"], padded)))
    digest = hashlib.sha256 if version == 3 else hashlib.sha1

    assert len(padded) - len(plain_private) in range(16)
    assert hashlib.sha256(padded[: len(plain_private)]).digest() == (
        hashlib.sha256(plain_private).digest()
    )
    assert hmac.new(mac_key, mac_input, digest).hexdigest().encode() == encrypted[b"Private-MAC"]


def ppk_fields(text: bytes) -> dict[bytes, bytes]:
    """A PPK file's header values; the two base64 blocks decoded under their count's name."""
    lines = iter(text.decode("ascii").splitlines())
    fields = {b"key type": next(lines).split(": ")[1].encode()}
    for line in lines:
        name, value = line.split(": ", 1)
        if name.endswith("-Lines"):
            block = "".join(next(lines) for _ in range(int(value)))
            fields[name.encode()] = base64.b64decode(block)
        else:
            fields[name.encode()] = value.encode()
    return fields


def derived_keys(fields: dict[bytes, bytes], version: int) -> tuple[bytes, bytes, bytes]:
    """(AES key, IV, MAC key) from the passphrase as appendix C.5 derives them."""
    if version == 2:
        return (
            v2_cipher_key(PASSPHRASE),
            bytes(16),
            hashlib.sha1(MAC_KEY_LABEL + PASSPHRASE).digest(),
        )
    assert fields[b"Key-Derivation"] == b"Argon2id"  # the only flavour `cryptography` has
    parameters = Argon2Parameters(
        memory=int(fields[b"Argon2-Memory"]),
        passes=int(fields[b"Argon2-Passes"]),
        parallelism=int(fields[b"Argon2-Parallelism"]),
        salt=bytes.fromhex(fields[b"Argon2-Salt"].decode()),
    )
    derived = argon2_output(PASSPHRASE, parameters)
    return derived[:32], derived[32:48], derived[48:80]
