"""Windows CNG (bcrypt.h) and CryptoAPI key blobs: parsers, rules/windows.yar, the CLI.

Keys are made with `cryptography` (RSA 1024/2048/4096, P-256/384/521) and
written as blobs by samples/samplegen/windows_blobs.py, which follows Microsoft's
published layouts (and reproduces Windows-written blobs byte for byte: see its
docstring).  Each parser must cut out exactly the blob at its anchor, the
prover must give the key's own fingerprint and kind, every truncation and
every inconsistent length field must give no candidate, and random bytes
after a magic must never give a key.  Payloads are compared by digest only.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samples.samplegen.windows_blobs import (
    CALG_RSA_KEYX,
    CALG_RSA_SIGN,
    CngRsaMagic,
    capi_rsa_blob,
    cng_ecc_blob,
    cng_rsa_blob,
    rsa_key_value_elements,
    rsa_key_value_xml,
)
from scanner.config import EngineName
from scanner.detectors import PARSERS
from scanner.detectors.base import Candidate, Window
from scanner.detectors.engines import Engine, build_engine
from scanner.detectors.scan import ChunkScanner
from scanner.errors import KeyProofError
from scanner.formats.base import Region
from scanner.keys.base import Key, KeyKind, PayloadKind
from scanner.keys.fingerprint import fingerprint_public_key
from scanner.keys.prove import prove
from tests.clirun import dumpguard
from tests.formats.test_elfcore import EM_X86_64, PF_R, PF_W, Segment, build_elf_core
from tests.processes import read_ready_line

REPO = Path(__file__).resolve().parents[2]
RULE_FILE = REPO / "rules" / "windows.yar"
ENGINE_NAMES = [EngineName.YARA_X, EngineName.YARA_PYTHON]
WINDOW_START = 0x7FF6_1234_0003  # odd: candidate offsets must add it
RSA_BITS = (1024, 2048, 4096)
CURVES: dict[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
}
DETECTORS = {"cng-rsa", "cng-ecc", "capi-rsa"}
WINDOWS_PARSER_NAMES = {*DETECTORS, "dotnet-xml"}


@dataclass(frozen=True)
class Keys:
    rsa: dict[int, rsa.RSAPrivateKey]
    ec: dict[str, ec.EllipticCurvePrivateKey]


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(
        rsa={bits: rsa.generate_private_key(65537, bits) for bits in RSA_BITS},
        ec={name: ec.generate_private_key(curve) for name, curve in CURVES.items()},
    )


@dataclass(frozen=True)
class Blob:
    """A written blob and what proving it must give."""

    name: str
    parser: str
    data: bytes
    key: Key


def expected_key(private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kind: KeyKind) -> Key:
    public_key = private_key.public_key()
    if isinstance(public_key, rsa.RSAPublicKey):
        return Key(kind, "RSA", public_key.key_size, None, fingerprint_public_key(public_key))
    curve = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
    return Key(
        kind,
        "EC",
        public_key.curve.key_size,
        curve[public_key.curve.name],
        fingerprint_public_key(public_key),
    )


def kind_of(private: bool) -> KeyKind:
    return KeyKind.PRIVATE if private else KeyKind.PUBLIC


def cng_rsa_blobs(keys: Keys) -> list[Blob]:
    return [
        Blob(
            f"cng-{magic.value.decode()}-{bits}",
            "cng-rsa",
            cng_rsa_blob(key, magic),
            expected_key(key, kind_of(magic is not CngRsaMagic.PUBLIC)),
        )
        for bits, key in keys.rsa.items()
        for magic in CngRsaMagic
    ]


def cng_ecc_blobs(keys: Keys) -> list[Blob]:
    return [
        Blob(
            f"cng-{'ecdh' if ecdh else 'ecdsa'}-{name}-{'private' if private else 'public'}",
            "cng-ecc",
            cng_ecc_blob(key, private=private, ecdh=ecdh),
            expected_key(key, kind_of(private)),
        )
        for name, key in keys.ec.items()
        for ecdh in (False, True)
        for private in (False, True)
    ]


def capi_blobs(keys: Keys) -> list[Blob]:
    return [
        Blob(
            f"capi-{'private' if private else 'public'}-{algorithm:04x}-{bits}",
            "capi-rsa",
            capi_rsa_blob(key, private=private, algorithm=algorithm),
            expected_key(key, kind_of(private)),
        )
        for bits, key in keys.rsa.items()
        for private in (False, True)
        for algorithm in (CALG_RSA_KEYX, CALG_RSA_SIGN)
    ]


def all_blobs(keys: Keys) -> list[Blob]:
    return cng_rsa_blobs(keys) + cng_ecc_blobs(keys) + capi_blobs(keys)


def parse_at(parser: str, data: bytes, position: int) -> list[Candidate]:
    window = Window(data, WINDOW_START, WINDOW_START + len(data))
    return list(PARSERS[parser].parse(window, position))


def proven_keys(parser: str, data: bytes, position: int = 0) -> list[Key]:
    """Keys proven from whatever the parser cuts out at `position` (rejected ones dropped)."""
    found = []
    for candidate in parse_at(parser, data, position):
        try:
            found.append(prove(candidate.payload))
        except KeyProofError:
            continue
    return found


# ---------------------------------------------------------------- parsers


def test_every_blob_is_cut_out_exactly_and_proven_as_its_key(keys: Keys) -> None:
    blobs = all_blobs(keys)
    assert len(blobs) == 9 + 12 + 12
    for blob in blobs:
        before, after = 4097, 333  # odd sizes: nothing is aligned
        data = os.urandom(before) + blob.data + os.urandom(after)
        [candidate] = parse_at(blob.parser, data, before)
        assert (candidate.detector, candidate.offset, candidate.length) == (
            blob.parser,
            WINDOW_START + before,
            len(blob.data),
        ), blob.name
        assert candidate.encoding == ("capi-blob" if blob.parser == "capi-rsa" else "cng-blob")
        assert prove(candidate.payload) == blob.key, blob.name


def test_private_blobs_hand_the_prover_pkcs1_and_sec1_and_public_ones_their_public_forms(
    keys: Keys,
) -> None:
    kinds = {
        blob.name: parse_at(blob.parser, blob.data, 0)[0].payload.kind for blob in all_blobs(keys)
    }
    assert kinds["cng-RSA1-2048"] is PayloadKind.PKCS1_PUBLIC
    assert kinds["cng-RSA2-2048"] is kinds["cng-RSA3-2048"] is PayloadKind.PKCS1_PRIVATE
    assert kinds["cng-ecdsa-P-384-public"] is PayloadKind.SPKI
    assert kinds["cng-ecdh-P-521-private"] is PayloadKind.SEC1_PRIVATE
    assert kinds["capi-private-a400-1024"] is PayloadKind.PKCS1_PRIVATE
    assert kinds["capi-public-2400-4096"] is PayloadKind.PKCS1_PUBLIC


def test_rsa2_without_d_and_rsa3_with_it_prove_the_same_private_key(keys: Keys) -> None:
    key = keys.rsa[2048]
    [from_rsa2] = proven_keys("cng-rsa", cng_rsa_blob(key, CngRsaMagic.PRIVATE))
    [from_rsa3] = proven_keys("cng-rsa", cng_rsa_blob(key, CngRsaMagic.FULL_PRIVATE))
    [from_capi] = proven_keys("capi-rsa", capi_rsa_blob(key, private=True))
    assert from_rsa2 == from_rsa3 == from_capi == expected_key(key, KeyKind.PRIVATE)


def test_every_truncation_gives_no_candidate(keys: Keys) -> None:
    samples = [
        ("cng-rsa", cng_rsa_blob(keys.rsa[1024], CngRsaMagic.FULL_PRIVATE)),
        ("cng-rsa", cng_rsa_blob(keys.rsa[1024], CngRsaMagic.PRIVATE)),
        ("cng-rsa", cng_rsa_blob(keys.rsa[1024], CngRsaMagic.PUBLIC)),
        ("cng-ecc", cng_ecc_blob(keys.ec["P-521"], private=True, ecdh=False)),
        ("cng-ecc", cng_ecc_blob(keys.ec["P-256"], private=False, ecdh=True)),
        ("capi-rsa", capi_rsa_blob(keys.rsa[1024], private=True)),
        ("capi-rsa", capi_rsa_blob(keys.rsa[1024], private=False)),
    ]
    for parser, blob in samples:
        for length in range(len(blob)):
            assert parse_at(parser, blob[:length], 0) == [], (parser, length)


def test_a_blob_past_the_window_or_its_bound_gives_no_candidate(keys: Keys) -> None:
    """The window ends inside the blob: the parser must not read past it."""
    blob = cng_rsa_blob(keys.rsa[2048], CngRsaMagic.FULL_PRIVATE)
    data = os.urandom(11) + blob
    window = Window(data[: 11 + len(blob) - 1], 0, 11 + len(blob) - 1)
    assert list(PARSERS["cng-rsa"].parse(window, 11)) == []
    assert len(blob) < PARSERS["cng-rsa"].max_length


# -- inconsistent fields: each mutation must leave no candidate at all


def set_u32(data: bytes, offset: int, value: int) -> bytes:
    return data[:offset] + value.to_bytes(4, "little") + data[offset + 4 :]


def add_u32(data: bytes, offset: int, delta: int) -> bytes:
    return set_u32(data, offset, int.from_bytes(data[offset : offset + 4], "little") + delta)


def flip_byte(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1 :]


Mutation = Callable[[bytes], bytes]
# BCRYPT_RSAKEY_BLOB of RSA-1024, e = 65537: header 24 bytes, e 3, n 128, primes 64 each.
E_AT, N_AT, P_AT = 24, 27, 155
Q_AT, DP_AT, DQ_AT, QINV_AT, D_AT = P_AT + 64, P_AT + 128, P_AT + 192, P_AT + 256, P_AT + 320
CNG_RSA_MUTATIONS: dict[str, Mutation] = {
    "BitLength one byte more": lambda b: add_u32(b, 4, 8),
    "BitLength below 512": lambda b: set_u32(set_u32(b, 4, 256), 12, 32),
    "BitLength above 16384": lambda b: set_u32(set_u32(b, 4, 16392), 12, 2049),
    "cbModulus one more": lambda b: add_u32(b, 12, 1),
    "cbModulus one less": lambda b: add_u32(b, 12, -1),
    "cbPublicExp 0": lambda b: set_u32(b, 8, 0),
    "cbPublicExp 9": lambda b: set_u32(b, 8, 9),
    "cbPublicExp one more": lambda b: add_u32(b, 8, 1),
    "cbPrime1 0": lambda b: set_u32(b, 16, 0),
    "cbPrime1 one more": lambda b: add_u32(b, 16, 1),
    "cbPrime2 far too large": lambda b: set_u32(b, 20, 0x7FFF_FFFF),
    "cbPrime1 above half the modulus": lambda b: set_u32(b, 16, 66),
    "modulus changed": lambda b: flip_byte(b, N_AT + 40),
    "modulus even": lambda b: flip_byte(b, P_AT - 1),
    "exponent even": lambda b: flip_byte(b, N_AT - 1),
    "prime1 changed": lambda b: flip_byte(b, P_AT + 63),
    "prime2 changed": lambda b: flip_byte(b, Q_AT + 10),
    "exponent1 changed": lambda b: flip_byte(b, DP_AT + 63),
    "exponent2 changed": lambda b: flip_byte(b, DQ_AT + 1),
    "coefficient changed": lambda b: flip_byte(b, QINV_AT + 5),
    "private exponent changed": lambda b: flip_byte(b, D_AT + 127),
    "magic RSA4": lambda b: b"RSA4" + b[4:],
    "magic rsa3": lambda b: b"rsa3" + b[4:],
}


@pytest.mark.parametrize("mutation", list(CNG_RSA_MUTATIONS))
def test_inconsistent_bcrypt_rsakey_blob_gives_no_candidate(keys: Keys, mutation: str) -> None:
    blob = cng_rsa_blob(keys.rsa[1024], CngRsaMagic.FULL_PRIVATE)
    assert blob[E_AT:N_AT] == b"\x01\x00\x01"
    assert len(blob) == D_AT + 128
    mutated = CNG_RSA_MUTATIONS[mutation](blob) + os.urandom(300)
    assert parse_at("cng-rsa", mutated, 0) == []


def test_public_rsa_blob_with_prime_sizes_that_do_not_fit_gives_no_candidate(keys: Keys) -> None:
    blob = cng_rsa_blob(keys.rsa[2048], CngRsaMagic.PUBLIC)
    assert len(parse_at("cng-rsa", set_u32(set_u32(blob, 16, 128), 20, 128), 0)) == 1
    assert parse_at("cng-rsa", set_u32(blob, 16, 128), 0) == []
    assert parse_at("cng-rsa", set_u32(set_u32(blob, 16, 300), 20, 300), 0) == []


ECC_MUTATIONS: dict[str, Mutation] = {
    "cbKey of P-384 under ECS2": lambda b: set_u32(b, 4, 48),
    "cbKey 0": lambda b: set_u32(b, 4, 0),
    "magic ECS7": lambda b: b"ECS7" + b[4:],
    "magic ECD2": lambda b: b"ECD2" + b[4:],
    "d zero": lambda b: b[:72] + bytes(32),
    "d at or above the group order": lambda b: b[:72] + b"\xff" * 32,
}


@pytest.mark.parametrize("mutation", list(ECC_MUTATIONS))
def test_inconsistent_bcrypt_ecckey_blob_gives_no_candidate(keys: Keys, mutation: str) -> None:
    blob = cng_ecc_blob(keys.ec["P-256"], private=True, ecdh=False)
    assert blob[:4] == b"ECS2"
    assert len(blob) == 8 + 96
    assert parse_at("cng-ecc", ECC_MUTATIONS[mutation](blob), 0) == []


def test_ecc_blob_with_another_keys_point_or_a_point_off_the_curve_is_never_a_key(
    keys: Keys,
) -> None:
    """The point is not checked by the parser: the prover must reject it."""
    private = cng_ecc_blob(keys.ec["P-256"], private=True, ecdh=True)
    other = cng_ecc_blob(ec.generate_private_key(ec.SECP256R1()), private=True, ecdh=True)
    assert proven_keys("cng-ecc", private[:8] + other[8:72] + private[72:]) == []
    public = cng_ecc_blob(keys.ec["P-384"], private=False, ecdh=False)
    assert proven_keys("cng-ecc", flip_byte(public, 8 + 95)) == []


CAPI_MUTATIONS: dict[str, Mutation] = {
    "PRIVATEKEYBLOB with RSA1": lambda b: b[:8] + b"RSA1" + b[12:],
    "PUBLICKEYBLOB with RSA2": lambda b: b"\x06" + b[1:],
    "SIMPLEBLOB type": lambda b: b"\x01" + b[1:],
    "bVersion 3": lambda b: b[:1] + b"\x03" + b[2:],
    "reserved 1": lambda b: b[:2] + b"\x01\x00" + b[4:],
    "CALG_DSS_SIGN": lambda b: set_u32(b, 4, 0x2200),
    "bitlen 1032": lambda b: set_u32(b, 12, 1032),
    "bitlen 1020": lambda b: set_u32(b, 12, 1020),
    "bitlen 256": lambda b: set_u32(b, 12, 256),
    "pubexp even": lambda b: set_u32(b, 16, 65536),
    "pubexp 1": lambda b: set_u32(b, 16, 1),
    "modulus changed": lambda b: flip_byte(b, 20 + 5),
    "prime1 changed": lambda b: flip_byte(b, 148),
    "exponent1 changed": lambda b: flip_byte(b, 148 + 128),
    "coefficient changed": lambda b: flip_byte(b, 148 + 256),
    "private exponent changed": lambda b: flip_byte(b, 148 + 320),
}


@pytest.mark.parametrize("mutation", list(CAPI_MUTATIONS))
def test_inconsistent_capi_blob_gives_no_candidate(keys: Keys, mutation: str) -> None:
    blob = capi_rsa_blob(keys.rsa[1024], private=True)
    assert len(blob) == 20 + 128 + 5 * 64 + 128
    assert parse_at("capi-rsa", CAPI_MUTATIONS[mutation](blob) + os.urandom(300), 0) == []


# ---------------------------------------------------------------- hypothesis

MAGICS = [
    ("cng-rsa", b"RSA1"),
    ("cng-rsa", b"RSA2"),
    ("cng-rsa", b"RSA3"),
    *[
        ("cng-ecc", f"{family}{digit}".encode())
        for family in ("ECS", "ECK")
        for digit in range(1, 7)
    ],
    ("capi-rsa", bytes.fromhex("0702000000A40000") + b"RSA2"),
    ("capi-rsa", bytes.fromhex("0602000000240000") + b"RSA1"),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    anchor=st.sampled_from(MAGICS),
    tail=st.binary(max_size=1200),
    before=st.binary(max_size=9),
)
def test_random_bytes_after_a_magic_never_raise_and_never_give_a_key(
    anchor: tuple[str, bytes], tail: bytes, before: bytes
) -> None:
    parser, magic = anchor
    assert proven_keys(parser, before + magic + tail, len(before)) == []


# Valid headers whose numbers are random: private blobs must never prove.
HEADERS = {
    "RSA2-1024": (
        "cng-rsa",
        b"RSA2" + bytes.fromhex("00040000 03000000 80000000 40000000 40000000"),
        3 + 128 + 128,
    ),
    "RSA3-1024": (
        "cng-rsa",
        b"RSA3" + bytes.fromhex("00040000 03000000 80000000 40000000 40000000"),
        3 + 256 + 320,
    ),
    "ECS2": ("cng-ecc", b"ECS2" + bytes.fromhex("20000000"), 96),
    "ECK6": ("cng-ecc", b"ECK6" + bytes.fromhex("42000000"), 198),
    "ECS5": ("cng-ecc", b"ECS5" + bytes.fromhex("42000000"), 132),
    "CAPI-1024": (
        "capi-rsa",
        bytes.fromhex("0702000000A40000") + b"RSA2" + bytes.fromhex("00040000 01000100"),
        128 * 2 + 5 * 64,
    ),
}


@settings(max_examples=200, deadline=None)
@given(header=st.sampled_from(sorted(HEADERS)), data=st.data())
def test_valid_header_with_random_numbers_never_gives_a_key(
    header: str, data: st.DataObject
) -> None:
    parser, fields, body_size = HEADERS[header]
    body = data.draw(st.binary(min_size=body_size, max_size=body_size))
    assert proven_keys(parser, fields + body) == []


# ---------------------------------------------------------------- rules/windows.yar


@pytest.fixture(scope="module")
def engines() -> dict[EngineName, Engine]:
    return {name: build_engine(name, [RULE_FILE]) for name in ENGINE_NAMES}


def planted(blobs: list[Blob], seed: int) -> tuple[bytes, list[int]]:
    """Each blob after an odd-sized random gap; returns the buffer and the blob offsets."""
    rng = random.Random(seed)
    data, offsets = bytearray(), []
    for blob in blobs:
        data += rng.randbytes(2 * rng.randrange(100, 2000) + 1)
        offsets.append(len(data))
        data += blob.data
    return bytes(data + rng.randbytes(501)), offsets


def test_rules_name_the_windows_parsers_in_both_engines(engines: dict[EngineName, Engine]) -> None:
    for engine in engines.values():
        assert set(engine.rule_parsers.values()) == DETECTORS
        assert all(rule.startswith("dumpguard_") for rule in engine.rule_parsers)


def test_both_engines_anchor_every_blob_at_its_first_byte(
    keys: Keys, engines: dict[EngineName, Engine]
) -> None:
    blobs = all_blobs(keys)
    data, offsets = planted(blobs, seed=7)
    anchors = {
        name: {(match.parser, match.offset) for match in engine.scan(data).matches}
        for name, engine in engines.items()
    }
    assert anchors[EngineName.YARA_X] == anchors[EngineName.YARA_PYTHON]
    assert {(blob.parser, offset) for blob, offset in zip(blobs, offsets, strict=True)} <= anchors[
        EngineName.YARA_X
    ]


@pytest.mark.parametrize("engine_name", ENGINE_NAMES)
def test_no_match_on_zero_pages_random_bytes_or_key_size_text(
    engines: dict[EngineName, Engine], engine_name: EngineName
) -> None:
    engine = engines[engine_name]
    assert engine.scan(bytes(4 * 1024 * 1024)).matches == ()
    assert engine.scan(os.urandom(4 * 1024 * 1024)).matches == ()
    text = b"RSA1024 RSA2048 RSA3072 RSA4096 ECS1 ECS2 ECK1 RSA2 RSA3 CALG_RSA_KEYX " * 100
    assert engine.scan(text).matches == ()


# ---------------------------------------------------------------- the chunk-overlap contract

CHUNK = 4096
EDGE = 4 * CHUNK


def offsets_across_chunk_edges(
    structure: bytes, tmp_path: Path, parser_names: tuple[str, ...]
) -> dict[int, list[int]]:
    """Planted so it ends before, straddles, or starts after a chunk edge: offset -> found.

    Only the named parsers are registered, so the overlap is their own max_length
    (a few chunks), not the 64 KiB of the PEM parser.
    """
    engine = build_engine(EngineName.YARA_X, [RULE_FILE, REPO / "rules" / "xml.yar"])
    parsers = {name: PARSERS[name] for name in parser_names}
    scanner = ChunkScanner(engine, parsers, chunk_size=CHUNK, jobs=1)
    path = tmp_path / "edges.raw"
    found = {}
    for offset in [*range(EDGE - len(structure) - 1, EDGE + 2, 97), EDGE - 1, EDGE]:
        data = bytearray(8 * CHUNK)
        data[offset : offset + len(structure)] = structure
        path.write_bytes(bytes(data))
        found[offset] = sorted(c.offset for c in scanner.scan_file(path, [Region(0, 8 * CHUNK)]))
    return found


def test_a_blob_across_any_chunk_edge_is_found_once(keys: Keys, tmp_path: Path) -> None:
    for blob in (
        cng_rsa_blob(keys.rsa[2048], CngRsaMagic.FULL_PRIVATE),
        capi_rsa_blob(keys.rsa[1024], private=True),
        cng_ecc_blob(keys.ec["P-521"], private=True, ecdh=True),
    ):
        found = offsets_across_chunk_edges(blob, tmp_path, tuple(DETECTORS))
        assert found == {offset: [offset] for offset in found}


# ---------------------------------------------------------------- the CLI, end to end

CORE_BASE = 0x7F55_0000_0000


@dataclass(frozen=True)
class Expected:
    detector: str
    encoding: str
    kind: str
    fingerprint: str
    offset: int


def cli_blobs(keys: Keys) -> list[Blob]:
    """One of each: RSA3, RSA2, RSA1, ECDSA and ECDH private and public, CAPI both."""
    by_name = {blob.name: blob for blob in all_blobs(keys)}
    names = [
        "cng-RSA3-2048",
        "cng-RSA2-1024",
        "cng-RSA1-4096",
        "cng-ecdsa-P-256-private",
        "cng-ecdh-P-384-private",
        "cng-ecdsa-P-521-public",
        "cng-ecdh-P-256-public",
        "capi-private-2400-4096",
        "capi-public-a400-2048",
    ]
    return [by_name[name] for name in names]


def expectations(blobs: list[Blob], offsets: list[int], base: int = 0) -> set[Expected]:
    return {
        Expected(
            blob.parser,
            "capi-blob" if blob.parser == "capi-rsa" else "cng-blob",
            blob.key.kind.value,
            str(blob.key.fingerprint),
            base + offset,
        )
        for blob, offset in zip(blobs, offsets, strict=True)
    }


def reported(findings: list[dict[str, Any]]) -> set[Expected]:
    return {
        Expected(f["detector"], f["encoding"], f["kind"], f["fingerprint"], f["offset"])
        for f in findings
    }


def write_known_keys(tmp_path: Path, keys: Keys) -> Path:
    """The public halves of every planted key, as PEM files (--known-keys)."""
    known = tmp_path / "known"
    known.mkdir()
    all_keys: list[rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey] = [
        *keys.rsa.values(),
        *keys.ec.values(),
    ]
    for index, private_key in enumerate(all_keys):
        (known / f"key{index}.pem").write_bytes(
            private_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    return known


def scan_json(*args: str | Path) -> dict[str, Any]:
    run = dumpguard("scan", *args, "--format", "json")
    assert run.code == 1, run.stderr
    report: dict[str, Any] = json.loads(run.stdout)
    assert all(item["status"] == "ok" for item in report["inputs"]), report["inputs"]
    return report


def test_cli_finds_blobs_in_raw_gzip_and_elf_core_with_known_keys(
    tmp_path: Path, keys: Keys
) -> None:
    blobs = cli_blobs(keys)
    data, offsets = planted(blobs, seed=19)
    raw = tmp_path / "heap.bin"
    raw.write_bytes(data)
    (tmp_path / "heap.bin.gz").write_bytes(gzip.compress(data))
    layout = build_elf_core(64, "<", EM_X86_64, [Segment(CORE_BASE, PF_R | PF_W, data)], b"")
    (tmp_path / "proc.core").write_bytes(layout.data)
    segment_offset = layout.load_offsets[0]
    known = write_known_keys(tmp_path, keys)

    report = scan_json(raw, tmp_path / "heap.bin.gz", tmp_path / "proc.core", "--known-keys", known)
    by_path: dict[str, list[dict[str, Any]]] = {}
    for finding in report["findings"]:
        by_path.setdefault(Path(finding["path"]).name, []).append(finding)

    assert reported(by_path["heap.bin"]) == expectations(blobs, offsets)
    assert reported(by_path["heap.bin.gz"]) == expectations(blobs, offsets)
    core_findings = by_path["proc.core"]
    assert reported(core_findings) == expectations(blobs, offsets, segment_offset)
    assert {f["address"] for f in core_findings} == {CORE_BASE + offset for offset in offsets}
    for finding in report["findings"]:
        private = finding["kind"] == KeyKind.PRIVATE.value
        assert finding["severity"] == ("critical" if private else "info")
        if private:
            assert finding["known_key"] is not None


def test_cli_reports_private_blobs_high_without_known_keys(tmp_path: Path, keys: Keys) -> None:
    blobs = cli_blobs(keys)
    data, offsets = planted(blobs, seed=23)
    path = tmp_path / "heap.bin"
    path.write_bytes(data)
    findings = scan_json(path)["findings"]
    assert reported(findings) == expectations(blobs, offsets)
    assert {f["severity"] for f in findings if f["kind"] == "private-key"} == {"high"}
    assert {f["severity"] for f in findings if f["kind"] == "public-key"} == {"info"}


# ---------------------------------------------------------------- a real process, gcore

# The holder reads each file into a bytearray (anonymous heap memory), says so,
# then sleeps until killed: its blobs sit in memory as a program's buffers do.
HOLDER = """
import sys, time
held = [bytearray(open(path, "rb").read()) for path in sys.argv[1:]]
print("READY", flush=True)
time.sleep(300)
"""


def gcore_of_holder(tmp_path: Path, structures: list[bytes]) -> Path:
    if shutil.which("gcore") is None:
        pytest.skip("gdb's gcore is not installed (make test installs it)")
    paths = []
    for index, structure in enumerate(structures):
        paths.append(tmp_path / f"held{index}.bin")
        paths[-1].write_bytes(structure)
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, *map(str, paths)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert read_ready_line(process, 30).strip() == "READY"
        for path in paths:
            path.unlink()  # only the process memory holds them now
        prefix = tmp_path / "core"
        result = subprocess.run(
            ["gcore", "-o", str(prefix), str(process.pid)],
            capture_output=True,
            timeout=120,
            check=False,
        )
        core = prefix.with_name(f"core.{process.pid}")
        if result.returncode != 0 or not core.is_file():
            pytest.skip("gcore could not dump the holder (ptrace not allowed?)")
        return core
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.slow
def test_blobs_and_utf16_xml_held_by_a_real_process_are_found_in_its_gcore_dump(
    tmp_path: Path, keys: Keys
) -> None:
    blobs = cli_blobs(keys)
    xml_key = keys.rsa[2048]
    xml = rsa_key_value_xml(rsa_key_value_elements(xml_key, private=True)).encode("utf-16-le")
    core = gcore_of_holder(tmp_path, [blob.data for blob in blobs] + [xml])
    report = scan_json(core, "--known-keys", write_known_keys(tmp_path, keys))
    core_bytes = core.read_bytes()
    found = {
        (f["detector"], f["encoding"], f["kind"], f["fingerprint"])
        for f in report["findings"]
        if f["detector"] in WINDOWS_PARSER_NAMES
    }
    expected = {
        (e.detector, e.encoding, e.kind, e.fingerprint)
        for e in expectations(blobs, [0] * len(blobs))
    }
    expected.add(
        ("dotnet-xml", "xml-utf-16le", "private-key", fingerprint_public_key(xml_key.public_key()))
    )
    assert found == expected
    structures = [blob.data for blob in blobs] + [xml]
    for finding in report["findings"]:
        if finding["detector"] in WINDOWS_PARSER_NAMES:
            start = finding["offset"]
            assert core_bytes[start : start + finding["length"]] in structures
            if finding["kind"] == "private-key":
                assert finding["severity"] == "critical"
