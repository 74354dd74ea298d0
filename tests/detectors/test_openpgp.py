"""OpenPGP private keys: real GnuPG exports, spec-exact v6 packets, both engines, the CLI.

Keys are made at test time by `gpg` (GnuPG 2.2, version 4 keys) in a throw-away
GNUPGHOME: unprotected keys (empty passphrase) and a passphrase-protected one
(loopback pinentry), exported armored and binary.  The expected fingerprints
come from the *public* export, read by a small reader in this file that builds
each public key with `cryptography`'s own constructors (not dumpguard's DER
builders).  GnuPG 2.2 cannot write version 6 keys (RFC 9580); those are built
by `v6_secret_key_packet` below from RFC 9580 5.5.2 and 5.5.3 (the encrypted
material of a protected v6 key is random bytes of the right layout: nothing
here decrypts it).  Key bytes never reach an assertion message.
"""

from __future__ import annotations

import base64
import contextlib
import os
import random
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.config import EngineName
from scanner.detectors import PARSERS
from scanner.detectors.base import Candidate, Window
from scanner.detectors.engines import build_engine
from scanner.detectors.openpgp import OpenPgpArmoredParser, OpenPgpBinaryParser
from scanner.errors import KeyProofError
from scanner.keys.base import Key, KeyKind, PayloadKind
from scanner.keys.fingerprint import fingerprint_public_key
from scanner.keys.prove import prove

from .containers_for import HOLDERS, scan_findings

ARMORED, BINARY = OpenPgpArmoredParser(), OpenPgpBinaryParser()
WINDOW_START = 0x2_0000_0001
RULE_FILE = Path(__file__).resolve().parents[2] / "rules" / "openpgp.yar"
PASSPHRASE = "dumpguard openpgp passphrase"
SECRET_TAGS, PUBLIC_TAGS = (5, 7), (6, 14)


# --- GnuPG ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GpgKey:
    """One exported key: secret (armored and binary) and the public binary export."""

    name: str
    armored: bytes
    binary: bytes
    public: bytes
    protected: bool


# (name, primary algorithm, subkey algorithm or None, protected)
GPG_KEYS = [
    ("ed25519", "ed25519", "cv25519", False),
    ("rsa2048", "rsa2048", "rsa2048", False),
    ("nist", "nistp384", "nistp521", False),
    ("dsa-elg", "dsa2048", "elg2048", False),
    ("secp256k1", "secp256k1", None, False),
    ("brainpool", "brainpoolP256r1", None, False),
    ("protected", "nistp256", "nistp256", True),
]


class Gpg:
    def __init__(self, home: Path) -> None:
        self.home = home

    def run(self, *args: str, passphrase: str = "") -> bytes:
        argv = ["gpg", "--homedir", str(self.home), "--batch", "--pinentry-mode", "loopback"]
        argv += ["--passphrase", passphrase, *args]
        return subprocess.run(argv, capture_output=True, check=True, timeout=120).stdout

    def make(self, name: str, primary: str, subkey: str | None, protected: bool) -> GpgKey:
        passphrase = PASSPHRASE if protected else ""
        uid = f"{name} <{name}@dumpguard.test>"
        self.run("--quick-gen-key", uid, primary, "default", "never", passphrase=passphrase)
        if subkey is not None:
            fpr = self.fingerprint(uid)
            self.run("--quick-add-key", fpr, subkey, "encr", "never", passphrase=passphrase)
        export = ("--export-secret-keys", uid)
        armored = self.run("--armor", *export, passphrase=passphrase)
        binary = self.run(*export, passphrase=passphrase)
        return GpgKey(name, armored, binary, self.run("--export", uid), protected)

    def fingerprint(self, uid: str) -> str:
        listing = self.run("--with-colons", "--list-keys", uid).decode()
        return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr"))


@pytest.fixture(scope="module")
def gpg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gpg]:
    if shutil.which("gpg") is None:
        pytest.skip("gpg (GnuPG) is not installed")
    home = tmp_path_factory.mktemp("gnupg")
    home.chmod(0o700)
    (home / "gpg-agent.conf").write_text("allow-loopback-pinentry\n")
    yield Gpg(home)
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False)


@pytest.fixture(scope="module")
def gpg_keys(gpg: Gpg) -> dict[str, GpgKey]:
    return {spec[0]: gpg.make(*spec) for spec in GPG_KEYS}


# --- an independent reading of the exports -------------------------------------------------


@dataclass(frozen=True)
class Packet:
    tag: int
    offset: int  # of the tag octet
    body_offset: int
    end: int


def packets(data: bytes) -> list[Packet]:
    """RFC 9580 4.2 headers, as GnuPG writes them (legacy format, 1/2/4-octet lengths)."""
    found, offset = [], 0
    while offset < len(data):
        first = data[offset]
        if first & 0x40:
            tag, length, header = first & 0x3F, data[offset + 1], 2
            assert length < 192  # GnuPG's new-format packets here are short
        else:
            size = 1 << (first & 3)
            tag = (first >> 2) & 0x0F
            length = int.from_bytes(data[offset + 1 : offset + 1 + size], "big")
            header = 1 + size
        found.append(Packet(tag, offset, offset + header, offset + header + length))
        offset += header + length
    return found


def read_mpi(body: bytes, position: int) -> tuple[int, int]:
    octets = (int.from_bytes(body[position : position + 2], "big") + 7) // 8
    value = int.from_bytes(body[position + 2 : position + 2 + octets], "big")
    return value, position + 2 + octets


CURVES = {
    "2a8648ce3d030107": ec.SECP256R1(),
    "2b81040022": ec.SECP384R1(),
    "2b81040023": ec.SECP521R1(),
    "2b8104000a": ec.SECP256K1(),
}


def public_key_of(body: bytes) -> PublicKeyTypes | None:
    """The public key of a v4 key packet body; None for Elgamal and brainpool."""
    algorithm, position = body[5], 6
    if algorithm == 1:
        n, position = read_mpi(body, position)
        e, _ = read_mpi(body, position)
        return rsa.RSAPublicNumbers(e, n).public_key()
    if algorithm == 17:
        values = []
        for _ in range(4):
            value, position = read_mpi(body, position)
            values.append(value)
        p, q, g, y = values
        return dsa.DSAPublicNumbers(y, dsa.DSAParameterNumbers(p, q, g)).public_key()
    if algorithm not in (18, 19, 22):
        return None
    oid = body[position + 1 : position + 1 + body[position]].hex()
    point_bits = int.from_bytes(body[position + 1 + body[position] :][:2], "big")
    point_start = position + 3 + body[position]
    point = body[point_start : point_start + (point_bits + 7) // 8]
    if oid == "2b06010401da470f01":
        return ed25519.Ed25519PublicKey.from_public_bytes(point[1:])
    if oid == "2b060104019755010501":
        return x25519.X25519PublicKey.from_public_bytes(point[1:])
    curve = CURVES.get(oid)
    return None if curve is None else ec.EllipticCurvePublicKey.from_encoded_point(curve, point)


def expected_fingerprints(public_export: bytes) -> list[str]:
    """Fingerprints of the key and subkey packets dumpguard can prove, in order."""
    keys = [
        public_key_of(public_export[packet.body_offset : packet.end])
        for packet in packets(public_export)
        if packet.tag in PUBLIC_TAGS
    ]
    return [fingerprint_public_key(key) for key in keys if key is not None]


def secret_packets(export: bytes) -> list[Packet]:
    return [packet for packet in packets(export) if packet.tag in SECRET_TAGS]


def window(data: bytes) -> Window:
    return Window(data, WINDOW_START, WINDOW_START + len(data))


def armored_candidates(data: bytes, position: int = 0) -> list[Candidate]:
    return list(ARMORED.parse(window(data), position))


def binary_candidates(data: bytes) -> list[Candidate]:
    """The parser at every offset: what it accepts must be exactly the secret packets."""
    return [c for position in range(len(data)) for c in BINARY.parse(window(data), position)]


def proven(candidates: list[Candidate]) -> list[Key]:
    return [prove(candidate.payload) for candidate in candidates]


# --- armored and binary exports of GnuPG keys -----------------------------------------------


@pytest.mark.parametrize("name", [spec[0] for spec in GPG_KEYS])
def test_armored_export_gives_each_provable_key(gpg_keys: dict[str, GpgKey], name: str) -> None:
    key = gpg_keys[name]
    expected = expected_fingerprints(key.public)
    before = b"config = '''\n"
    candidates = armored_candidates(before + key.armored, len(before))
    keys = proven(candidates)
    assert [k.fingerprint for k in keys] == expected
    kind = KeyKind.ENCRYPTED if key.protected else KeyKind.PRIVATE
    assert {k.kind for k in keys} <= {kind}
    end_line = key.armored.rstrip(b"\n")
    for candidate in candidates:
        assert (candidate.detector, candidate.encoding) == ("openpgp", "armored")
        assert candidate.offset == WINDOW_START + len(before)
        assert candidate.length == len(end_line)


@pytest.mark.parametrize("name", [spec[0] for spec in GPG_KEYS])
def test_binary_export_gives_each_provable_secret_packet(
    gpg_keys: dict[str, GpgKey], name: str
) -> None:
    key = gpg_keys[name]
    candidates = binary_candidates(key.binary)
    keys = proven(candidates)
    assert [k.fingerprint for k in keys] == expected_fingerprints(key.public)
    provable = {c.offset - WINDOW_START for c in candidates}
    assert provable <= {packet.offset for packet in secret_packets(key.binary)}
    for candidate in candidates:
        packet = next(p for p in packets(key.binary) if p.offset == candidate.offset - WINDOW_START)
        assert candidate.length == packet.end - packet.offset
        assert candidate.encoding == "binary"


def test_each_algorithm_becomes_its_canonical_der(gpg_keys: dict[str, GpgKey]) -> None:
    kinds = {
        name: [c.payload.kind for c in binary_candidates(gpg_keys[name].binary)]
        for name in ("ed25519", "rsa2048", "nist", "dsa-elg", "protected")
    }
    assert kinds == {
        "ed25519": [PayloadKind.PKCS8_PRIVATE, PayloadKind.PKCS8_PRIVATE],  # Ed25519, X25519
        "rsa2048": [PayloadKind.PKCS1_PRIVATE] * 2,
        "nist": [PayloadKind.SEC1_PRIVATE] * 2,  # ECDSA P-384, ECDH P-521
        "dsa-elg": [PayloadKind.DSA_PRIVATE],  # Elgamal cannot be proven
        "protected": [PayloadKind.ENCRYPTED_SPKI] * 2,
    }
    algorithms = [k.algorithm for k in proven(binary_candidates(gpg_keys["ed25519"].binary))]
    assert algorithms == ["Ed25519", "X25519"]


def test_brainpool_key_gives_nothing(gpg_keys: dict[str, GpgKey]) -> None:
    assert binary_candidates(gpg_keys["brainpool"].binary) == []
    assert armored_candidates(gpg_keys["brainpool"].armored) == []


def test_exported_subkeys_only_skip_the_stub_primary(gpg: Gpg, gpg_keys: dict[str, GpgKey]) -> None:
    """--export-secret-subkeys writes the primary as a GnuPG stub (S2K 101): no secret."""
    uid = "rsa2048 <rsa2048@dumpguard.test>"
    export = gpg.run("--export-secret-subkeys", uid)
    first_packet = packets(export)[0]
    assert export[first_packet.body_offset + 5] == 1  # an RSA key packet ...
    keys = proven(binary_candidates(export))
    assert [k.fingerprint for k in keys] == expected_fingerprints(gpg_keys["rsa2048"].public)[1:]
    armored = gpg.run("--armor", "--export-secret-subkeys", uid)
    assert len(armored_candidates(armored)) == 1


def test_tampered_or_missing_crc_still_gives_the_keys(gpg_keys: dict[str, GpgKey]) -> None:
    """The CRC24 guards the armor, not the key: the numbers decide (see openpgp.py)."""
    text = gpg_keys["ed25519"].armored
    lines = text.split(b"\n")
    crc_index = next(i for i, line in enumerate(lines) if line.startswith(b"="))
    crc = lines[crc_index]
    expected = expected_fingerprints(gpg_keys["ed25519"].public)
    tampered = b"\n".join([*lines[:crc_index], b"=AAAA" if crc != b"=AAAA" else b"=BBBB"])
    without = b"\n".join(lines[:crc_index] + lines[crc_index + 1 :])
    for variant in (tampered + b"\n" + lines[-2], without):
        assert [k.fingerprint for k in proven(armored_candidates(variant))] == expected


def test_armor_headers_are_skipped(gpg_keys: dict[str, GpgKey]) -> None:
    text = gpg_keys["ed25519"].armored
    begin, _, rest = text.partition(b"\n\n")
    headed = begin + b"\nVersion: GnuPG v2\nComment: dumpguard test\n\n" + rest
    assert len(armored_candidates(headed)) == 2
    assert armored_candidates(begin + b"\nVersion: GnuPG v2\n" + rest) == []  # no blank line


# --- text forms and cut blocks ---------------------------------------------------------------


def utf16le(text: bytes) -> bytes:
    return text.decode("ascii").encode("utf-16-le")


TEXT_FORMS: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "crlf": (lambda t: t.replace(b"\n", b"\r\n"), "armored"),
    "indented": (lambda t: t.replace(b"\n", b"\n    "), "armored"),
    "escaped": (lambda t: b'{"key": "' + t.replace(b"\n", b"\\n") + b'"}', "armored-escaped"),
    "utf-16le": (utf16le, "armored-utf-16le"),
}


@pytest.mark.parametrize("form", list(TEXT_FORMS))
def test_text_forms_are_read(gpg_keys: dict[str, GpgKey], form: str) -> None:
    convert, encoding = TEXT_FORMS[form]
    key = gpg_keys["nist"]
    data = convert(key.armored)
    position = data.index(convert(b"-----BEGIN") if form != "escaped" else b"-----BEGIN")
    candidates = armored_candidates(data, position)
    assert [k.fingerprint for k in proven(candidates)] == expected_fingerprints(key.public)
    assert {c.encoding for c in candidates} == {encoding}


def test_armored_block_cut_after_the_primary_still_gives_the_primary(
    gpg_keys: dict[str, GpgKey],
) -> None:
    key = gpg_keys["rsa2048"]
    first_packet = packets(key.binary)[0]
    base64_characters = 4 * -(-first_packet.end // 3) + 200  # past the primary, not the subkey
    lines = key.armored.split(b"\n")
    body_start = lines.index(b"") + 1
    kept, count = [], 0
    for line in lines[body_start:]:
        kept.append(line)
        count += len(line)
        if count >= base64_characters:
            break
    cut = b"\n".join([*lines[:body_start], *kept]) + b"\n\0\0garbage"
    [candidate] = armored_candidates(cut)
    assert prove(candidate.payload).fingerprint == expected_fingerprints(key.public)[0]


def test_block_opening_with_another_packet_gives_nothing(gpg_keys: dict[str, GpgKey]) -> None:
    public = gpg_keys["ed25519"].public
    body = base64.encodebytes(public)
    begin, end = b"-----BEGIN PGP PRIVATE KEY BLOCK-----", b"-----END PGP PRIVATE KEY BLOCK-----"
    block = begin + b"\n\n" + body + end + b"\n"
    assert armored_candidates(block) == []


def test_every_truncation_of_a_packet_gives_nothing(gpg_keys: dict[str, GpgKey]) -> None:
    for name in ("ed25519", "protected"):
        export = gpg_keys[name].binary
        first = packets(export)[0]
        for length in range(first.end - first.offset):
            assert list(BINARY.parse(window(export[:length]), 0)) == [], (name, length)


def rsa_packet(numbers: rsa.RSAPrivateNumbers, q_delta: int = 0) -> bytes:
    """A v4 RSA Secret-Key packet (RFC 9580 5.5.5.1): n, e | d, p, q, u = p^-1 mod q."""

    def mpi(value: int) -> bytes:
        octets = value.to_bytes((value.bit_length() + 7) // 8, "big")
        return value.bit_length().to_bytes(2, "big") + octets

    p, q = numbers.p, numbers.q + q_delta
    public = mpi(numbers.public_numbers.n) + mpi(numbers.public_numbers.e)
    secret = mpi(numbers.d) + mpi(p) + mpi(q) + mpi(pow(p, -1, q))
    checksum = (sum(secret) & 0xFFFF).to_bytes(2, "big")
    body = b"\x04" + bytes(4) + b"\x01" + public + b"\x00" + secret + checksum
    return b"\x95" + len(body).to_bytes(2, "big") + body


def test_rsa_packet_proves_only_when_its_primes_make_n() -> None:
    key = rsa.generate_private_key(65537, 1024)
    [candidate] = binary_candidates(rsa_packet(key.private_numbers()))
    assert prove(candidate.payload).fingerprint == fingerprint_public_key(key.public_key())
    assert binary_candidates(rsa_packet(key.private_numbers(), q_delta=2)) == []


def test_eddsa_secret_of_another_key_fails_the_proof() -> None:
    key, other = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    packet = v6_secret_key_packet(raw(key)[0], 27, raw(other)[1], protected=False)
    [candidate] = binary_candidates(packet)
    with pytest.raises(KeyProofError):
        prove(candidate.payload)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.sampled_from([b"\x94\x58\x04", b"\x95\x03\x98\x04", b"\xc5"]))
def test_random_bytes_after_a_header_give_nothing_and_never_raise(tail: bytes, head: bytes) -> None:
    assert list(BINARY.parse(window(head + tail), 0)) == []


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_packets_and_blocks_never_raise(data: st.DataObject) -> None:
    seed = data.draw(st.integers(0, 2**32))
    for sample in MUTATION_SAMPLES:
        mutated = bytearray(sample)
        noise = random.Random(seed)
        for _ in range(noise.randint(1, 4)):
            mutated[noise.randrange(len(mutated))] = noise.randrange(256)
        candidates = [*BINARY.parse(window(bytes(mutated)), 0)]
        candidates += armored_candidates(bytes(mutated))
        for candidate in candidates:
            with contextlib.suppress(KeyProofError):
                prove(candidate.payload)


# --- version 6 (RFC 9580), spec-exact ---------------------------------------------------------


def v6_secret_key_packet(public: bytes, algorithm: int, secret: bytes, protected: bool) -> bytes:
    """RFC 9580 5.5.2 / 5.5.3 v6 Secret-Key packet in the OpenPGP packet format.

    Unprotected: S2K usage 0, the native secret octets, no checksum.  Protected:
    usage 253 (AEAD), cipher AES-256 (9), OCB (2), an Argon2 S2K specifier
    (type 4: 16-octet salt, t=1, p=4, m=21), a 15-octet OCB nonce, then
    "encrypted" material (random here) with its 16-octet tag.
    """
    head = b"\x06" + bytes(4) + bytes([algorithm]) + len(public).to_bytes(4, "big") + public
    if protected:
        specifier = b"\x04" + os.urandom(16) + b"\x01\x04\x15"
        fields = b"\x09\x02" + bytes([len(specifier)]) + specifier + os.urandom(15)
        body = head + b"\xfd" + bytes([len(fields)]) + fields + os.urandom(len(secret) + 16)
    else:
        body = head + b"\x00" + secret
    return b"\xc5" + bytes([len(body)]) + body


def raw(key: ed25519.Ed25519PrivateKey | x25519.X25519PrivateKey) -> tuple[bytes, bytes]:
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    private = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return public, private


V6_ALGORITHMS = {"ed25519": 27, "x25519": 25}


def v6_key(name: str) -> ed25519.Ed25519PrivateKey | x25519.X25519PrivateKey:
    if name == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return x25519.X25519PrivateKey.generate()


@pytest.mark.parametrize("protected", [False, True])
@pytest.mark.parametrize("name", list(V6_ALGORITHMS))
def test_v6_packets_of_raw_algorithms(name: str, protected: bool) -> None:
    key = v6_key(name)
    public, private = raw(key)
    packet = v6_secret_key_packet(public, V6_ALGORITHMS[name], private, protected)
    [candidate] = binary_candidates(b"\x00" * 7 + packet)
    proof = prove(candidate.payload)
    assert proof.kind is (KeyKind.ENCRYPTED if protected else KeyKind.PRIVATE)
    assert proof.fingerprint == fingerprint_public_key(key.public_key())
    assert candidate.offset == WINDOW_START + 7
    assert candidate.length == len(packet)
    # a material count that disagrees with the key material makes it no packet
    broken = packet[:8] + (len(public) + 1).to_bytes(4, "big") + packet[12:]
    assert binary_candidates(broken) == []


# --- the rule, under both engines ------------------------------------------------------------


@pytest.mark.parametrize("engine_name", [EngineName.YARA_X, EngineName.YARA_PYTHON])
def test_rule_anchors_every_secret_packet_and_armored_block(
    gpg_keys: dict[str, GpgKey], engine_name: EngineName
) -> None:
    engine = build_engine(engine_name, [RULE_FILE])
    noise = random.Random(11)
    data, binary_offsets, armored_offsets = bytearray(), set(), set()
    for key in gpg_keys.values():
        data += noise.randbytes(noise.randrange(1000, 3000))
        binary_offsets |= {len(data) + p.offset for p in secret_packets(key.binary)}
        data += key.binary + noise.randbytes(501)
        armored_offsets.add(len(data))
        data += key.armored
    data += bytes(4096) + utf16le(gpg_keys["ed25519"].armored)
    armored_offsets.add(len(data) - len(utf16le(gpg_keys["ed25519"].armored)))
    matches = engine.scan(bytes(data)).matches
    by_parser = {
        name: {m.offset for m in matches if m.parser == name}
        for name in ("openpgp-binary", "openpgp-armored")
    }
    # every secret packet the parser accepts (not Elgamal's or brainpool's), and no other
    accepted = {c.offset - WINDOW_START for c in binary_candidates(bytes(data))}
    assert accepted < binary_offsets
    assert by_parser["openpgp-binary"] == accepted
    assert by_parser["openpgp-armored"] == armored_offsets
    assert isinstance(PARSERS["openpgp-binary"], OpenPgpBinaryParser)
    assert isinstance(PARSERS["openpgp-armored"], OpenPgpArmoredParser)


# --- the CLI: raw file, ELF core, minidump, gzip ----------------------------------------------


@pytest.mark.parametrize("holder", list(HOLDERS))
def test_cli_finds_armored_and_binary_keys_in_each_input(
    gpg_keys: dict[str, GpgKey], holder: str, tmp_path: Path
) -> None:
    plain, protected = gpg_keys["ed25519"], gpg_keys["protected"]
    gap = bytes(333)
    planted = HOLDERS[holder](tmp_path, plain.armored + gap + protected.binary)
    findings = scan_findings(planted.path)
    got = sorted((f["fingerprint"], f["kind"], f["encoding"], f["offset"]) for f in findings)
    binary_start = planted.offset + len(plain.armored) + len(gap)
    plain_fingerprints = expected_fingerprints(plain.public)
    protected_fingerprints = expected_fingerprints(protected.public)
    packet_offsets = [binary_start + p.offset for p in secret_packets(protected.binary)]
    expected = [(fp, "private-key", "armored", planted.offset) for fp in plain_fingerprints]
    expected += [
        (fp, "encrypted-private-key", "binary", offset)
        for fp, offset in zip(protected_fingerprints, packet_offsets, strict=True)
    ]
    assert got == sorted(expected)
    assert {f["detector"] for f in findings} == {"openpgp"}
    assert {f["severity"] for f in findings if f["kind"] == "private-key"} == {"high"}
    assert {f["severity"] for f in findings if f["kind"] != "private-key"} == {"medium"}


MUTATION_SAMPLES: list[bytes] = []


@pytest.fixture(scope="module", autouse=True)
def _mutation_samples(gpg_keys: dict[str, GpgKey]) -> None:
    """Hypothesis tests cannot take fixtures: the samples they mutate are set here."""
    MUTATION_SAMPLES[:] = [
        gpg_keys["ed25519"].binary[: packets(gpg_keys["ed25519"].binary)[0].end],
        gpg_keys["protected"].binary[: packets(gpg_keys["protected"].binary)[0].end],
        gpg_keys["nist"].armored,
    ]
