"""Build the benchmark's memory image: realistic pages with private keys planted at known offsets.

The image is a raw file of 4 KiB pages.  Page mix, by exact page count (rounding remainder goes
to zero pages), laid out in runs of 1-64 pages of one kind, the runs shuffled with the seed:

    zero          55 %   all 0x00 (untouched heap and stack)
    pointer       15 %   little-endian 64-bit words: heap pointers 0x55..., library/stack
                         pointers 0x7f..., small ints (< 1024) and zeros
    text (ASCII)  12 %   log lines, INI/YAML config, C/Python-like source, page filled to the end
    text (UTF-16)  3 %   the same kinds of text, UTF-16LE (Windows/Java strings)
    random        15 %   os.urandom (compressed or encrypted data; not reproducible by design)

Everything but the random pages is reproducible from the seed.  Keys are generated fresh with
`cryptography` on every build and written over the background at odd offsets: some cross a 4 KiB
page edge, some a 16 MiB boundary (the scanner's default chunk size), each split at a different
byte.  `planted.json` beside the image records the build parameters, the page counts and, per
key, offset, length, kind and fingerprint ("sha256:" + hex SHA-256 of the DER
SubjectPublicKeyInfo, as in scanner/keys/fingerprint.py; null for encrypted keys).  It never
holds key bytes.

Raw numbers (issue 3: keys that exist only as numbers, found through known public keys) are
planted too: one prime (p or q) of each of several fresh RSA-2048 keys and the scalar of each of
several fresh P-256 keys, each stored in one layout (`RAW_LAYOUTS`): big-endian at an 8-aligned
offset, little-endian at an 8-aligned or a 4-aligned (not 8-aligned) offset, as 32-bit words
most significant first each little-endian, big-endian after an ASN.1 INTEGER header
(02 81 81 00) at an odd offset, and a P-256 scalar after an ASN.1 OCTET STRING header (04 20)
at an odd offset; some across a 16 MiB boundary (one with the boundary inside the header),
some across a page edge.  planted.json lists them under "raw": the offset of the number's
first byte, its layout, the header length before it, and the key's fingerprint; never the
number.  The public halves go to `known/` beside the image as known-keys directories of SPKI
PEM files (`KNOWN_SETS`): rsa-1 (the first planted RSA key), rsa-10 and rsa-100 (every planted
RSA key, then fresh decoys), p256-10 (every planted P-256 key, then decoys).  They are reused
with the image and rebuilt with it; no private key is ever written to disk.

The image is written in batches of `BATCH_PAGES` pages, so memory stays small at any size.
"""

from __future__ import annotations

import argparse
import enum
import hashlib
import json
import multiprocessing
import os
import random
import re
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

BUILDER_VERSION = 2
MANIFEST_VERSION = 2
PAGE_SIZE = 4096
CHUNK_SIZE = 16 * 1024 * 1024  # scanner.config.DEFAULT_CHUNK_SIZE
MIN_SIZE = 4 * 1024 * 1024
BATCH_PAGES = 1024  # 4 MiB written per batch
MAX_RUN_PAGES = 64
DEFAULT_SEED = 20240517
IMAGE_NAME = "image.raw"
MANIFEST_NAME = "planted.json"
KNOWN_DIR = "known"  # beside the image: one known-keys directory per KNOWN_SETS entry
KEY_MARGIN = 2 * PAGE_SIZE  # free space kept between two planted keys


class PageKind(enum.Enum):
    ZERO = "zero"
    POINTER = "pointer"
    TEXT_ASCII = "text-ascii"
    TEXT_UTF16 = "text-utf16le"
    RANDOM = "random"


PAGE_MIX: dict[PageKind, float] = {
    PageKind.ZERO: 0.55,
    PageKind.POINTER: 0.15,
    PageKind.TEXT_ASCII: 0.12,
    PageKind.TEXT_UTF16: 0.03,
    PageKind.RANDOM: 0.15,
}


@dataclass(frozen=True)
class BuildParams:
    """What makes two builds interchangeable (compared before reusing an image)."""

    size: int
    seed: int = DEFAULT_SEED

    def record(self) -> dict[str, object]:
        return {
            "builder_version": BUILDER_VERSION,
            "size": self.size,
            "seed": self.seed,
            "page_size": PAGE_SIZE,
            "chunk_size": CHUNK_SIZE,
            "mix": {kind.value: share for kind, share in PAGE_MIX.items()},
            "raw_numbers": len(RAW_SPECS),
            "known_sets": {known.name: known.size for known in KNOWN_SETS},
        }


def check_size(size: int) -> None:
    if size < MIN_SIZE or size % PAGE_SIZE:
        raise ValueError(f"image size {size} must be a multiple of {PAGE_SIZE} and >= {MIN_SIZE}")


# ---------------------------------------------------------------- page layout


def page_counts(page_total: int) -> dict[PageKind, int]:
    """Exact pages per kind: each share rounded down, the remainder to zero pages."""
    counts = {kind: int(share * page_total) for kind, share in PAGE_MIX.items()}
    counts[PageKind.ZERO] += page_total - sum(counts.values())
    return counts


def page_layout(params: BuildParams) -> list[PageKind]:
    """The kind of every page: runs of 1..64 pages of one kind, runs shuffled by the seed."""
    rng = random.Random(params.seed)
    runs: list[tuple[PageKind, int]] = []
    for kind, count in page_counts(params.size // PAGE_SIZE).items():
        left = count
        while left:
            length = min(left, rng.randint(1, MAX_RUN_PAGES))
            runs.append((kind, length))
            left -= length
    rng.shuffle(runs)
    return [kind for kind, length in runs for _ in range(length)]


# ---------------------------------------------------------------- pointer pages

WORDS_PER_PAGE = PAGE_SIZE // 8
HEAP_TOP, LIB_TOP = 0x55, 0x7F  # top byte of a 48-bit user-space address


def pointer_pages(rng: np.random.Generator, page_count: int) -> bytes:
    """Pages of 64-bit LE words: per page one heap base and one library base, words near them.

    Bases stay below 0x..8000000000 and offsets below 2**24, so every pointer keeps its top
    byte (0x55 or 0x7f): a test can tell pointer pages from the rest.
    """
    shape = (page_count, WORDS_PER_PAGE)
    heap_base = (HEAP_TOP << 40) + (rng.integers(0, 2**27, (page_count, 1), np.uint64) << 12)
    lib_base = (LIB_TOP << 40) + (rng.integers(0, 2**27, (page_count, 1), np.uint64) << 12)
    heap = heap_base + rng.integers(0, 2**20, shape, np.uint64) * 16
    lib = lib_base + rng.integers(0, 2**21, shape, np.uint64) * 8
    small = rng.integers(0, 1024, shape, np.uint64)
    # word class shares: heap 35 %, library/stack 25 %, small int 25 %, zero 15 %
    word_class = rng.choice(4, size=shape, p=[0.35, 0.25, 0.25, 0.15])
    zero = np.zeros(shape, np.uint64)
    words = np.choose(word_class, [heap, lib, small, zero])
    return words.astype("<u8").tobytes()


# ---------------------------------------------------------------- text pages

_LEVELS = ("INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR")
_PATHS = ("/api/v1/items", "/api/v1/users", "/healthz", "/static/app.js", "/login", "/metrics")
_WORDS = (
    "session",
    "cache",
    "request",
    "worker",
    "buffer",
    "handshake",
    "timeout",
    "retry",
    "upstream",
    "connection",
    "config",
    "token",
    "client",
    "server",
    "queue",
    "index",
)
_KEYWORDS = ("static int", "return", "if (", "for (size_t i = 0;", "def", "self.", "import")
# Source that handles PEM text holds the marker without a key after it: a decoy the
# detectors must reject cheaply.  One page in DECOY_EVERY text pages carries one.
_DECOY = '    if (strncmp(line, "-----BEGIN RSA PRIVATE KEY-----", 31) == 0) {'
DECOY_EVERY = 200


def _log_line(rng: random.Random) -> str:
    return (
        f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:"
        f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z "
        f"{rng.choice(_LEVELS):5} [worker-{rng.randint(0, 15)}] GET {rng.choice(_PATHS)}/"
        f"{rng.randint(1, 99999)} {rng.choice((200, 200, 304, 404, 500))} "
        f"{rng.randint(80, 90000)}B {rng.randint(1, 900)}ms req_id={rng.getrandbits(32):08x}"
    )


def _config_line(rng: random.Random) -> str:
    word, other = rng.choice(_WORDS), rng.choice(_WORDS)
    shape = rng.randint(0, 3)
    if shape == 0:
        return f"[{word}.{other}]"
    if shape == 1:
        return f"{word}_{other} = {rng.randint(0, 65535)}"
    if shape == 2:
        return f"  {word}: /var/lib/{other}/{word}-{rng.randint(1, 9)}.conf"
    return f"{word}.{other}.enabled={rng.choice(('true', 'false'))}"


def _source_line(rng: random.Random) -> str:
    indent = " " * (4 * rng.randint(0, 3))
    word, other = rng.choice(_WORDS), rng.choice(_WORDS)
    return f"{indent}{rng.choice(_KEYWORDS)} {word}_{other}({other}, {rng.randint(0, 4096)});"


_TEXT_STYLES: tuple[Callable[[random.Random], str], ...] = (_log_line, _config_line, _source_line)


def text_page(rng: random.Random, char_count: int) -> str:
    """`char_count` characters of one style of text, cut at the page end like a real buffer."""
    make_line = rng.choice(_TEXT_STYLES)
    lines: list[str] = []
    if rng.randrange(DECOY_EVERY) == 0:
        lines.append(_DECOY)
    length = sum(len(line) + 1 for line in lines)
    while length < char_count:
        line = make_line(rng)
        lines.append(line)
        length += len(line) + 1
    return ("\n".join(lines) + "\n")[:char_count]


# ---------------------------------------------------------------- keys


ENCRYPTED_FORMAT = "pem-encrypted-pkcs8"
_KEY_MAKERS: dict[str, tuple[str, Callable[[], PrivateKeyTypes]]] = {
    "rsa2048": ("RSA", lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    "p256": ("EC", lambda: ec.generate_private_key(ec.SECP256R1())),
    "p384": ("EC", lambda: ec.generate_private_key(ec.SECP384R1())),
    "ed25519": ("Ed25519", ed25519.Ed25519PrivateKey.generate),
}
_PEM, _DER = serialization.Encoding.PEM, serialization.Encoding.DER
_FORMATS: dict[str, tuple[serialization.Encoding, serialization.PrivateFormat]] = {
    "pem-pkcs8": (_PEM, serialization.PrivateFormat.PKCS8),
    "pem-pkcs1": (_PEM, serialization.PrivateFormat.TraditionalOpenSSL),  # RSA PRIVATE KEY
    "pem-sec1": (_PEM, serialization.PrivateFormat.TraditionalOpenSSL),  # EC PRIVATE KEY
    "der-pkcs8": (_DER, serialization.PrivateFormat.PKCS8),
    "openssh": (_PEM, serialization.PrivateFormat.OpenSSH),
    ENCRYPTED_FORMAT: (_PEM, serialization.PrivateFormat.PKCS8),
}
CHUNK_EDGE, PAGE_EDGE, MID_PAGE = "chunk-edge", "page-edge", "mid-page"


@dataclass(frozen=True)
class KeySpec:
    """One key to plant: its format, text encoding, key type and which edge it should cross.

    placement: CHUNK_EDGE (a 16 MiB boundary), PAGE_EDGE (a 4 KiB boundary) or MID_PAGE.
    split: for edge placements, the share of the key's bytes that lie before the edge
    (rounded to an odd count, so the key's first byte sits at an odd offset).
    """

    format: str
    encoding: str  # "ascii", "utf-16le" (the PEM text as UTF-16LE) or "der"
    key_type: str  # a _KEY_MAKERS name
    placement: str
    split: float = 0.5

    @property
    def name(self) -> str:
        prefix = "utf16-" if self.encoding == "utf-16le" else ""
        return f"{prefix}{self.format}-{self.key_type}"

    @property
    def kind(self) -> str:
        """The key kind dumpguard reports (scanner.keys.base.KeyKind values)."""
        return "encrypted-private-key" if self.format == ENCRYPTED_FORMAT else "private-key"

    @property
    def algorithm(self) -> str:
        return _KEY_MAKERS[self.key_type][0]

    def make(self) -> PrivateKeyTypes:
        return _KEY_MAKERS[self.key_type][1]()

    def serialize(self, key: PrivateKeyTypes, passphrase: bytes) -> bytes:
        encoding, private_format = _FORMATS[self.format]
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase)
            if self.format == ENCRYPTED_FORMAT
            else serialization.NoEncryption()
        )
        data = key.private_bytes(encoding, private_format, encryption)
        return data.decode("ascii").encode("utf-16-le") if self.encoding == "utf-16le" else data


# Chunk-edge keys come first: when the image has fewer 16 MiB boundaries than chunk-edge keys,
# the later ones are planted across a page edge instead.  Splits vary so that the edge falls
# after the first byte, in the middle, and before the last byte.
KEY_SPECS: tuple[KeySpec, ...] = (
    KeySpec("pem-pkcs8", "ascii", "rsa2048", CHUNK_EDGE, split=0.0),
    KeySpec("der-pkcs8", "der", "rsa2048", CHUNK_EDGE, split=0.5),
    KeySpec("pem-pkcs8", "utf-16le", "rsa2048", CHUNK_EDGE, split=1.0),
    KeySpec("openssh", "ascii", "ed25519", CHUNK_EDGE, split=0.3),
    KeySpec("der-pkcs8", "der", "ed25519", CHUNK_EDGE, split=0.9),
    KeySpec("pem-pkcs1", "ascii", "rsa2048", PAGE_EDGE, split=0.0),
    KeySpec("pem-sec1", "ascii", "p256", PAGE_EDGE, split=0.5),
    KeySpec("der-pkcs8", "der", "p384", PAGE_EDGE, split=1.0),
    KeySpec(ENCRYPTED_FORMAT, "ascii", "rsa2048", PAGE_EDGE, split=0.6),
    KeySpec("openssh", "ascii", "rsa2048", PAGE_EDGE, split=0.2),
    KeySpec("pem-sec1", "utf-16le", "p256", PAGE_EDGE, split=0.4),
    KeySpec("pem-pkcs8", "ascii", "p256", MID_PAGE),
    KeySpec("der-pkcs8", "der", "p256", MID_PAGE),
    KeySpec("pem-pkcs8", "ascii", "ed25519", MID_PAGE),
)


def _spki(key: PrivateKeyTypes) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def spki_fingerprint(spki: bytes) -> str:
    return "sha256:" + hashlib.sha256(spki).hexdigest()


def fingerprint(key: PrivateKeyTypes) -> str:
    return spki_fingerprint(_spki(key))


@dataclass(frozen=True)
class PlantedKey:
    """What planted.json records about one key: where and what, never its bytes."""

    name: str
    format: str
    encoding: str
    kind: str
    algorithm: str
    offset: int
    length: int
    fingerprint: str | None
    crosses_page_edge: bool
    crosses_chunk_edge: bool


@dataclass(frozen=True)
class Plant:
    record: PlantedKey
    data: bytes = field(repr=False)

    @property
    def start(self) -> int:
        return self.record.offset

    @property
    def end(self) -> int:
        return self.record.offset + self.record.length


# ---------------------------------------------------------------- key placement


def _odd_split(length: int, fraction: float) -> int:
    """Bytes before the edge: odd (edges are even, so the key starts at an odd offset),
    at least 1 and at most length - 1 (the key really crosses)."""
    split = max(1, min(length - 1, round(fraction * length)))
    return split if split % 2 else (split - 1 if split > 1 else split + 1)


def _overlaps(start: int, end: int, taken: Sequence[tuple[int, int]]) -> bool:
    return any(
        start < t_end + KEY_MARGIN and t_start < end + KEY_MARGIN for t_start, t_end in taken
    )


def _chunk_boundaries(size: int, wanted: int) -> list[int]:
    """Up to `wanted` distinct 16 MiB boundaries inside the image, spread over it."""
    inside = (size - 1) // CHUNK_SIZE
    used = min(wanted, inside)
    return [CHUNK_SIZE * (1 + index * inside // used) for index in range(used)]


def _free_offset(
    rng: random.Random,
    size: int,
    length: int,
    taken: Sequence[tuple[int, int]],
    *,
    edge: bool,
    split_fraction: float,
) -> int:
    """An odd offset crossing a 4 KiB edge (not a 16 MiB one), or starting inside a page."""
    for _ in range(10_000):
        page = rng.randrange(1, size // PAGE_SIZE - 1)
        if edge:
            if (page * PAGE_SIZE) % CHUNK_SIZE == 0:
                continue
            offset = page * PAGE_SIZE - _odd_split(length, split_fraction)
        else:
            room = max(1, (PAGE_SIZE - length) // 2)
            offset = page * PAGE_SIZE + 1 + 2 * rng.randrange(room)
        crosses_chunk = offset // CHUNK_SIZE != (offset + length - 1) // CHUNK_SIZE
        if (
            offset + length <= size
            and not crosses_chunk
            and not _overlaps(offset, offset + length, taken)
        ):
            return offset
    raise ValueError(f"no room for a {length}-byte key in a {size}-byte image")


def place_keys(
    params: BuildParams, blobs: Sequence[tuple[KeySpec, bytes]]
) -> list[tuple[KeySpec, int]]:
    """Offsets for every key; chunk-edge keys beyond the image's boundaries go to page edges."""
    rng = random.Random(params.seed ^ 0x6B657973)
    chunk_specs = [index for index, (spec, _) in enumerate(blobs) if spec.placement == CHUNK_EDGE]
    boundaries = dict(
        zip(chunk_specs, _chunk_boundaries(params.size, len(chunk_specs)), strict=False)
    )
    taken: list[tuple[int, int]] = []
    placed: list[tuple[KeySpec, int]] = []
    for index, (spec, data) in enumerate(blobs):
        if index in boundaries:
            offset = boundaries[index] - _odd_split(len(data), spec.split)
        else:
            edge = spec.placement != MID_PAGE
            offset = _free_offset(
                rng, params.size, len(data), taken, edge=edge, split_fraction=spec.split
            )
        taken.append((offset, offset + len(data)))
        placed.append((spec, offset))
    return placed


def make_plants(params: BuildParams, passphrase: bytes) -> list[Plant]:
    """Generate every key, serialize it and give it an offset."""
    keyed = [(spec, spec.make()) for spec in KEY_SPECS]
    blobs = [(spec, spec.serialize(key, passphrase)) for spec, key in keyed]
    plants: list[Plant] = []
    for (spec, offset), (_, key), (_, data) in zip(
        place_keys(params, blobs), keyed, blobs, strict=True
    ):
        end = offset + len(data) - 1
        record = PlantedKey(
            name=spec.name,
            format=spec.format,
            encoding=spec.encoding,
            kind=spec.kind,
            algorithm=spec.algorithm,
            offset=offset,
            length=len(data),
            fingerprint=None if spec.format == ENCRYPTED_FORMAT else fingerprint(key),
            crosses_page_edge=offset // PAGE_SIZE != end // PAGE_SIZE,
            crosses_chunk_edge=offset // CHUNK_SIZE != end // CHUNK_SIZE,
        )
        plants.append(Plant(record, data))
    return sorted(plants, key=lambda plant: plant.record.offset)


# ---------------------------------------------------------------- raw numbers (issue 3)


@dataclass(frozen=True)
class RawLayout:
    """How one number is stored: its byte order, the ASN.1 header right before it (if any),
    and where its first byte may sit (offset % modulus == residue).

    encoding: as the rsa-factor / ec-scalar findings name it: "be", "le", or
    "be32-words-le" (32-bit words, most significant word first, each word little-endian:
    a big-number library's 32-bit limbs copied out in reverse limb order).
    """

    encoding: str
    header: bytes
    modulus: int
    residue: int

    def store(self, value: int, length: int) -> bytes:
        """The header and `value` in `length` bytes, in this layout."""
        big = value.to_bytes(length, "big")
        if self.encoding == "le":
            return self.header + big[::-1]
        if self.encoding == "be32-words-le":
            return self.header + b"".join(big[i : i + 4][::-1] for i in range(0, length, 4))
        return self.header + big


RAW_LAYOUTS: dict[str, RawLayout] = {
    "be-align8": RawLayout("be", b"", 8, 0),
    "le-align8": RawLayout("le", b"", 8, 0),
    "le-align4": RawLayout("le", b"", 8, 4),  # 4-aligned, not 8-aligned
    "be32-words-le-align4": RawLayout("be32-words-le", b"", 8, 4),
    # INTEGER, long-form length 0x81 = 129: a zero byte (the prime's top bit is set, and
    # DER integers are signed) and the 128-byte prime; the prime's first byte at an odd offset
    "asn1-integer": RawLayout("be", bytes.fromhex("02818100"), 2, 1),
    # SEC1 ECPrivateKey.privateKey: OCTET STRING of 32 bytes, the P-256 scalar
    "asn1-octet-string": RawLayout("be", bytes.fromhex("0420"), 2, 1),
}
# key type -> (bytes of the number, detector that finds it)
RAW_KEY_TYPES: dict[str, tuple[int, str]] = {
    "rsa2048": (128, "rsa-factor"),
    "p256": (32, "ec-scalar"),
}


@dataclass(frozen=True)
class RawSpec:
    """One raw number to plant: a component of a fresh key, its layout and placement.

    split: for edge placements, the share of the stored bytes (header and number) before
    the edge, moved to the nearest split that keeps the layout's alignment.
    """

    key_type: str
    component: str  # "p" or "q" (RSA prime), "scalar" (EC private value)
    layout: str
    placement: str
    split: float = 0.5

    @property
    def length(self) -> int:
        return RAW_KEY_TYPES[self.key_type][0]

    @property
    def header_length(self) -> int:
        return len(RAW_LAYOUTS[self.layout].header)

    @property
    def span_length(self) -> int:
        return self.header_length + self.length


# One key per spec.  The first RSA spec's key is the whole rsa-1 set.  Chunk-edge numbers get
# 16 MiB boundaries not used by the structured keys (page edges when the image has too few).
# The last RSA one has the boundary inside its ASN.1 header (the prime starts 1 byte after
# it): a search that anchors on the header must still report the prime once.
RAW_SPECS: tuple[RawSpec, ...] = (
    RawSpec("rsa2048", "p", "be-align8", MID_PAGE),
    RawSpec("rsa2048", "q", "le-align8", MID_PAGE),
    RawSpec("rsa2048", "p", "le-align4", PAGE_EDGE, split=0.5),
    RawSpec("rsa2048", "p", "be32-words-le-align4", MID_PAGE),
    RawSpec("rsa2048", "p", "asn1-integer", MID_PAGE),
    RawSpec("rsa2048", "q", "be-align8", CHUNK_EDGE, split=0.25),
    RawSpec("rsa2048", "q", "le-align4", CHUNK_EDGE, split=0.75),
    RawSpec("rsa2048", "p", "be32-words-le-align4", CHUNK_EDGE, split=0.5),
    RawSpec("rsa2048", "q", "asn1-integer", CHUNK_EDGE, split=3 / 132),
    RawSpec("p256", "scalar", "asn1-octet-string", MID_PAGE),
    RawSpec("p256", "scalar", "asn1-octet-string", PAGE_EDGE, split=0.5),
    RawSpec("p256", "scalar", "asn1-octet-string", CHUNK_EDGE, split=0.5),
    RawSpec("p256", "scalar", "asn1-octet-string", CHUNK_EDGE, split=1 / 34),
)


@dataclass(frozen=True)
class PlantedNumber:
    """What planted.json records about one raw number: where, how and whose; never its value.

    offset: the number's first byte (its ASN.1 header, if any, is the header_length bytes
    before it).  crosses_*: whether the stored bytes (header and number) cross such an edge.
    """

    name: str
    kind: str  # always "raw"
    algorithm: str
    component: str
    layout: str
    encoding: str
    detector: str
    offset: int
    length: int
    header_length: int
    fingerprint: str
    crosses_page_edge: bool
    crosses_chunk_edge: bool


@dataclass(frozen=True)
class RawPlant:
    record: PlantedNumber
    data: bytes = field(repr=False)  # header and number

    @property
    def start(self) -> int:
        return self.record.offset - self.record.header_length

    @property
    def end(self) -> int:
        return self.record.offset + self.record.length


def _aligned_split(spec: RawSpec, fraction: float) -> int:
    """Stored bytes before an edge (a multiple of 8) so that the number keeps its layout's
    alignment: the one nearest `fraction`, with at least one byte on each side."""
    layout = RAW_LAYOUTS[spec.layout]
    wanted = fraction * spec.span_length
    valid = [
        split
        for split in range(1, spec.span_length)
        if (spec.header_length - split) % layout.modulus == layout.residue
    ]
    return min(valid, key=lambda split: abs(split - wanted))


def _mid_page_start(rng: random.Random, page: int, spec: RawSpec) -> int:
    """A start (of header and number) inside one page with the number aligned."""
    layout = RAW_LAYOUTS[spec.layout]
    first = page * PAGE_SIZE + spec.header_length
    aligned = first + (layout.residue - first) % layout.modulus
    last = (page + 1) * PAGE_SIZE - spec.length
    return (
        aligned
        + layout.modulus * rng.randrange((last - aligned) // layout.modulus + 1)
        - (spec.header_length)
    )


def _crosses(start: int, end: int, edge: int) -> bool:
    return start // edge != (end - 1) // edge


def _free_raw_start(
    rng: random.Random, size: int, spec: RawSpec, taken: Sequence[tuple[int, int]], *, edge: bool
) -> int:
    """A start crossing a 4 KiB edge (not a 16 MiB one), or inside one page."""
    for _ in range(10_000):
        page = rng.randrange(1, size // PAGE_SIZE - 1)
        if edge:
            start = page * PAGE_SIZE - _aligned_split(spec, spec.split)
        else:
            start = _mid_page_start(rng, page, spec)
        end = start + spec.span_length
        if not _crosses(start, end, CHUNK_SIZE) and not _overlaps(start, end, taken):
            return start
    raise ValueError(f"no room for a {spec.span_length}-byte number in a {size}-byte image")


def _chunk_edge_start(spec: RawSpec, size: int, taken: Sequence[tuple[int, int]]) -> int | None:
    """A start crossing a 16 MiB boundary clear of everything taken; None when none is."""
    split = _aligned_split(spec, spec.split)
    free = [
        boundary
        for boundary in range(CHUNK_SIZE, size, CHUNK_SIZE)
        if not _overlaps(boundary - split, boundary - split + spec.span_length, taken)
    ]
    if not free:
        return None
    # the boundary farthest from everything planted so far spreads the numbers over the image
    farthest = max(free, key=lambda boundary: min(abs(boundary - start) for start, _ in taken))
    return farthest - split


def place_numbers(
    params: BuildParams, specs: Sequence[RawSpec], taken: Sequence[tuple[int, int]]
) -> list[int]:
    """Starts (of header and number) for every spec, clear of `taken` and of each other."""
    rng = random.Random(params.seed ^ 0x726177)
    spans = list(taken)
    starts: list[int] = []
    for spec in specs:
        start = (
            _chunk_edge_start(spec, params.size, spans) if spec.placement == CHUNK_EDGE else None
        )
        if start is None:
            start = _free_raw_start(rng, params.size, spec, spans, edge=spec.placement != MID_PAGE)
        spans.append((start, start + spec.span_length))
        starts.append(start)
    return starts


def _component(key: PrivateKeyTypes, component: str) -> int:
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.private_numbers()
        return numbers.p if component == "p" else numbers.q
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.private_numbers().private_value
    raise TypeError(f"no raw component {component} for {type(key).__name__}")


def _raw_plant(index: int, spec: RawSpec, key: PrivateKeyTypes, start: int) -> RawPlant:
    layout = RAW_LAYOUTS[spec.layout]
    value = _component(key, spec.component)
    if spec.layout == "asn1-integer" and value.bit_length() != 8 * spec.length:
        raise ValueError("an RSA-2048 prime without its top bit set does not fit 02 81 81 00")
    end = start + spec.span_length
    record = PlantedNumber(
        name=f"raw{index}-{spec.key_type}-{spec.component}-{spec.layout}",  # unique: one key each
        kind="raw",
        algorithm=_KEY_MAKERS[spec.key_type][0],
        component=spec.component,
        layout=spec.layout,
        encoding=layout.encoding,
        detector=RAW_KEY_TYPES[spec.key_type][1],
        offset=start + spec.header_length,
        length=spec.length,
        header_length=spec.header_length,
        fingerprint=fingerprint(key),
        crosses_page_edge=_crosses(start, end, PAGE_SIZE),
        crosses_chunk_edge=_crosses(start, end, CHUNK_SIZE),
    )
    return RawPlant(record, layout.store(value, spec.length))


def make_raw_plants(
    params: BuildParams, taken: Sequence[tuple[int, int]]
) -> tuple[list[RawPlant], list[tuple[str, bytes]]]:
    """Fresh keys, their planted numbers, and (key type, SPKI DER) of each key in spec order."""
    keys = [_KEY_MAKERS[spec.key_type][1]() for spec in RAW_SPECS]
    starts = place_numbers(params, RAW_SPECS, taken)
    plants = [
        _raw_plant(index, spec, key, start)
        for index, (spec, key, start) in enumerate(zip(RAW_SPECS, keys, starts, strict=True))
    ]
    publics = [(spec.key_type, _spki(key)) for spec, key in zip(RAW_SPECS, keys, strict=True)]
    return sorted(plants, key=lambda plant: plant.start), publics


# ---------------------------------------------------------------- known-keys sets


@dataclass(frozen=True)
class KnownSet:
    """A known-keys directory under known/: `size` public keys of one type, the planted
    ones of that type first (as many as fit), then decoys that are in no image."""

    name: str
    key_type: str
    size: int


KNOWN_SETS: tuple[KnownSet, ...] = (
    KnownSet("rsa-1", "rsa2048", 1),
    KnownSet("rsa-10", "rsa2048", 10),
    KnownSet("rsa-100", "rsa2048", 100),
    KnownSet("p256-10", "p256", 10),
)


def _decoy_spki(key_type: str) -> bytes:
    """A fresh key's SPKI DER (run in a worker: only the public half leaves it)."""
    return _spki(_KEY_MAKERS[key_type][1]())


def _decoys(key_type: str, count: int) -> list[bytes]:
    """`count` decoy public keys, made on every core (RSA-2048 takes ~50 ms each)."""
    if count <= 0:
        return []
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=context) as pool:
        return list(pool.map(_decoy_spki, [key_type] * count, chunksize=8))


def known_set_members(planted: Sequence[tuple[str, bytes]]) -> dict[str, list[bytes]]:
    """SPKI DER of every set's members: planted keys of its type first, then decoys, so the
    sets of one type are nested (rsa-1 in rsa-10 in rsa-100)."""
    members: dict[str, list[bytes]] = {}
    for key_type in dict.fromkeys(known.key_type for known in KNOWN_SETS):
        mine = list(dict.fromkeys(spki for kind, spki in planted if kind == key_type))
        largest = max(known.size for known in KNOWN_SETS if known.key_type == key_type)
        pool = mine + _decoys(key_type, largest - len(mine))
        for known in KNOWN_SETS:
            if known.key_type == key_type:
                members[known.name] = pool[: known.size]
    return members


def write_known_sets(
    out_dir: Path, members: dict[str, list[bytes]], seed: int
) -> dict[str, list[str]]:
    """known/<set>/key-NNN.pem (SPKI PEM) for every set, in a shuffled order (a search must
    not depend on the planted keys coming first); returns each set's fingerprints in file order."""
    rng = random.Random(seed ^ 0x6B6E6F776E)
    known_root = out_dir / KNOWN_DIR
    shutil.rmtree(known_root, ignore_errors=True)
    recorded: dict[str, list[str]] = {}
    for name, spkis in members.items():
        directory = known_root / name
        directory.mkdir(parents=True)
        ordered = rng.sample(spkis, len(spkis))
        for index, spki in enumerate(ordered):
            (directory / f"key-{index:03d}.pem").write_bytes(_spki_pem(spki))
        recorded[name] = [spki_fingerprint(spki) for spki in ordered]
    return recorded


def _spki_pem(spki: bytes) -> bytes:
    return serialization.load_der_public_key(spki).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def known_set_fingerprints(directory: Path) -> list[str] | None:
    """Fingerprints of the PEM files in a known-keys directory, in name order; None when it
    is missing or holds anything else."""
    try:
        files = sorted(path for path in directory.iterdir() if not path.name.startswith("."))
        keys = [serialization.load_pem_public_key(path.read_bytes()) for path in files]
    except (OSError, ValueError, TypeError):
        return None
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return [spki_fingerprint(key.public_bytes(serialization.Encoding.DER, spki)) for key in keys]


# ---------------------------------------------------------------- writing


def _fill_batch(
    kinds: Sequence[PageKind], text_rng: random.Random, pointer_rng: np.random.Generator
) -> bytearray:
    batch = bytearray(len(kinds) * PAGE_SIZE)
    pointer_indexes = [i for i, kind in enumerate(kinds) if kind is PageKind.POINTER]
    pointers = pointer_pages(pointer_rng, len(pointer_indexes)) if pointer_indexes else b""
    for rank, index in enumerate(pointer_indexes):
        batch[index * PAGE_SIZE : (index + 1) * PAGE_SIZE] = pointers[
            rank * PAGE_SIZE : (rank + 1) * PAGE_SIZE
        ]
    for index, kind in enumerate(kinds):
        page = _page_bytes(kind, text_rng)
        if page is not None:
            batch[index * PAGE_SIZE : (index + 1) * PAGE_SIZE] = page
    return batch


def _page_bytes(kind: PageKind, text_rng: random.Random) -> bytes | None:
    """The bytes of one text or random page; None for kinds filled elsewhere (zero, pointer)."""
    # text_page returns exactly the characters asked for: one byte each in ASCII, two in UTF-16
    if kind is PageKind.TEXT_ASCII:
        return text_page(text_rng, PAGE_SIZE).encode("ascii")
    if kind is PageKind.TEXT_UTF16:
        return text_page(text_rng, PAGE_SIZE // 2).encode("utf-16-le")
    if kind is PageKind.RANDOM:
        return os.urandom(PAGE_SIZE)
    return None


class Written(Protocol):
    """Bytes written over the background at [start, end): a key, or a header and number."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def data(self) -> bytes: ...


def _overlay(batch: bytearray, batch_start: int, plants: Sequence[Written]) -> None:
    """Write the part of every plant that falls in this batch over the background."""
    batch_end = batch_start + len(batch)
    for plant in plants:
        start, end = max(plant.start, batch_start), min(plant.end, batch_end)
        if start < end:
            batch[start - batch_start : end - batch_start] = plant.data[
                start - plant.start : end - plant.start
            ]


def write_image(
    path: Path, params: BuildParams, plants: Sequence[Written], layout: Sequence[PageKind]
) -> None:
    text_rng = random.Random(params.seed + 1)
    pointer_rng = np.random.default_rng(params.seed + 2)
    with path.open("wb") as image:
        for first_page in range(0, len(layout), BATCH_PAGES):
            kinds = layout[first_page : first_page + BATCH_PAGES]
            batch = _fill_batch(kinds, text_rng, pointer_rng)
            _overlay(batch, first_page * PAGE_SIZE, plants)
            assert len(batch) == len(kinds) * PAGE_SIZE, "a page generator returned a short page"
            image.write(batch)


# ---------------------------------------------------------------- manifest and entry points


@dataclass(frozen=True)
class Manifest:
    """planted.json: build parameters, page counts, planted keys and raw numbers, and the
    fingerprints in each known-keys set (never key bytes)."""

    params: dict[str, object]
    page_counts: dict[str, int]
    keys: tuple[PlantedKey, ...]
    raw: tuple[PlantedNumber, ...] = ()
    known_sets: dict[str, list[str]] = field(default_factory=dict)  # set name -> fingerprints
    image: str = IMAGE_NAME

    def to_json(self) -> dict[str, object]:
        return {
            "version": MANIFEST_VERSION,
            "image": self.image,
            "params": self.params,
            "page_counts": self.page_counts,
            "keys": [asdict(key) for key in self.keys],
            "raw": [asdict(number) for number in self.raw],
            "known_dir": KNOWN_DIR,
            "known_sets": self.known_sets,
        }

    @classmethod
    def from_json(cls, record: dict[str, object]) -> Manifest:
        keys, raw = record["keys"], record.get("raw", [])
        params, counts = record["params"], record["page_counts"]
        known_sets = record.get("known_sets", {})
        if not (
            isinstance(keys, list)
            and isinstance(raw, list)
            and isinstance(params, dict)
            and isinstance(counts, dict)
            and isinstance(known_sets, dict)
        ):
            raise TypeError("planted.json: keys, raw, params, page_counts or known_sets mistyped")
        return cls(
            params=params,
            page_counts=counts,
            keys=tuple(PlantedKey(**key) for key in keys),
            raw=tuple(PlantedNumber(**number) for number in raw),
            known_sets={str(name): list(prints) for name, prints in known_sets.items()},
            image=str(record["image"]),
        )

    def known_dir(self, out_dir: Path, set_name: str) -> Path:
        return out_dir / KNOWN_DIR / set_name

    def planted_in_set(self, set_name: str) -> list[PlantedNumber]:
        """The raw numbers a scan with this known-keys set must find."""
        members = set(self.known_sets[set_name])
        return [number for number in self.raw if number.fingerprint in members]


def build_image(out_dir: Path, params: BuildParams, passphrase: bytes | None = None) -> Manifest:
    """Write image.raw, known/ and planted.json into `out_dir` (the manifest last, so it only
    exists beside a finished image and its known-keys sets).  `passphrase` encrypts the
    encrypted key; by default a random one that is thrown away."""
    check_size(params.size)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path, image_path = out_dir / MANIFEST_NAME, out_dir / IMAGE_NAME
    manifest_path.unlink(missing_ok=True)
    layout = page_layout(params)
    plants = make_plants(params, passphrase if passphrase is not None else os.urandom(16))
    raw_plants, raw_publics = make_raw_plants(params, [(p.start, p.end) for p in plants])
    partial = image_path.with_suffix(".partial")
    write_image(partial, params, [*plants, *raw_plants], layout)
    partial.replace(image_path)
    known_sets = write_known_sets(out_dir, known_set_members(raw_publics), params.seed)
    counts = {kind.value: count for kind, count in page_counts(len(layout)).items()}
    manifest = Manifest(
        params.record(),
        counts,
        tuple(plant.record for plant in plants),
        tuple(plant.record for plant in raw_plants),
        known_sets,
    )
    manifest_path.write_text(json.dumps(manifest.to_json(), indent=2) + "\n")
    return manifest


def load_manifest(out_dir: Path) -> Manifest | None:
    try:
        record = json.loads((out_dir / MANIFEST_NAME).read_text())
        return Manifest.from_json(record)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def known_sets_intact(out_dir: Path, manifest: Manifest) -> bool:
    """Whether every known-keys directory holds exactly the keys planted.json lists."""
    return bool(manifest.known_sets) and all(
        known_set_fingerprints(manifest.known_dir(out_dir, name)) == fingerprints
        for name, fingerprints in manifest.known_sets.items()
    )


def ensure_image(out_dir: Path, params: BuildParams) -> tuple[Manifest, bool]:
    """Reuse the image and its known-keys sets in `out_dir` when its recorded parameters
    match and the sets are intact; else build both anew.

    Returns the manifest and whether the image was reused.
    """
    manifest = load_manifest(out_dir)
    image_path = out_dir / IMAGE_NAME
    if (
        manifest is not None
        and manifest.params == params.record()
        and image_path.is_file()
        and image_path.stat().st_size == params.size
        and known_sets_intact(out_dir, manifest)
    ):
        return manifest, True
    return build_image(out_dir, params), False


_SIZE = re.compile(r"^\s*(\d+)\s*([kmgt]?)(i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """'1GiB', '256MiB', '32M', '4194304' -> bytes (binary units)."""
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 256MiB, 1GiB)")
    size = int(match.group(1)) * _UNITS[match.group(2).lower()]
    try:
        check_size(size)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return size


def iter_pages(image_path: Path) -> Iterator[bytes]:
    """The image's pages in order, read a batch at a time."""
    with image_path.open("rb") as image:
        while batch := image.read(BATCH_PAGES * PAGE_SIZE):
            for start in range(0, len(batch), PAGE_SIZE):
                yield batch[start : start + PAGE_SIZE]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=parse_size, default=parse_size("1GiB"))
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=Path("samples/out/bench"))
    args = parser.parse_args(argv)
    manifest, reused = ensure_image(args.out, BuildParams(args.size, args.seed))
    state = "reused" if reused else "built"
    print(
        f"{state} {args.out / manifest.image}: {len(manifest.keys)} keys, "
        f"{len(manifest.raw)} raw numbers, {manifest.page_counts}; known-keys sets in "
        f"{args.out / KNOWN_DIR}: {', '.join(manifest.known_sets)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
