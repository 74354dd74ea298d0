"""EC private scalars of known keys: BIGNUM descriptors, ASN.1 remnants, the --deep wide pass.

Real artifacts throughout: keys from OpenSSL's CLI, cryptography, Java and
Node.js; small spec-exact ELF cores (tests/formats' writer) holding BIGNUM
descriptors at realistic addresses; raw files with ASN.1 remnants; and a gcore
dump of a live Python process that keeps an EC key and an Ed25519 key.
"""

from __future__ import annotations

import base64
import os
import shutil
import struct
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, x448, x25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.config import EngineName, ScanConfig, Severity
from scanner.detectors import PARSERS
from scanner.detectors.base import Window
from scanner.detectors.components import ec_scalar
from scanner.detectors.components.base import (
    AddressSpace,
    ComponentSearch,
    KnownPublicKey,
    SearchConfig,
)
from scanner.detectors.components.bytestats import looks_random, random_starts, random_windows
from scanner.detectors.components.ec_scalar import EcScalarSearch
from scanner.detectors.components.ecx_seed import EcxSeedSearch
from scanner.detectors.components.registry import build_searches
from scanner.detectors.engines import build_engine
from scanner.detectors.engines.base import rule_files_in
from scanner.detectors.scan import ChunkScanner
from scanner.findings import Finding
from scanner.formats import reader_for
from scanner.formats.base import Region
from scanner.keys.base import KnownKey
from scanner.keys.ec import CURVES, Curve
from scanner.keys.fingerprint import fingerprint_public_key
from scanner.keys.known import load_known_keys
from scanner.pipeline import BUILTIN_RULES, scan
from tests.formats.test_elfcore import (
    EM_386,
    EM_X86_64,
    NT_PRPSINFO,
    PF_R,
    PF_W,
    Segment,
    build_elf_core,
    note,
    prpsinfo,
)
from tests.processes import gcore, read_ready_line, require_gcore, stop

CURVE = {curve.name: curve for curve in CURVES}
KEYS_PER_GENERATOR = 20
CHUNK = 4096

# --- Real keys from four generators ---------------------------------------------------------


@dataclass(frozen=True)
class RealKey:
    """A private key as a generator made it; `private` is the scalar/seed, never printed."""

    generator: str
    algorithm: str
    index: int
    private: bytes = field(repr=False)

    @property
    def label(self) -> str:
        return f"{self.generator} {self.algorithm} #{self.index}"


JAVA_KEYGEN = """
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;

public class KeyGen {
    public static void main(String[] args) throws Exception {
        int count = Integer.parseInt(args[0]);
        // JDK 16 removed secp256k1 from SunEC: Java makes no secp256k1 keys.
        String[][] specs = {
            {"P-256", "EC", "secp256r1"}, {"P-384", "EC", "secp384r1"},
            {"P-521", "EC", "secp521r1"}, {"Ed25519", "Ed25519", ""},
            {"X25519", "X25519", ""}, {"Ed448", "Ed448", ""}, {"X448", "X448", ""},
        };
        for (String[] spec : specs) {
            KeyPairGenerator generator = KeyPairGenerator.getInstance(spec[1]);
            if (!spec[2].isEmpty()) generator.initialize(new ECGenParameterSpec(spec[2]));
            for (int i = 0; i < count; i++) {
                byte[] der = generator.generateKeyPair().getPrivate().getEncoded();
                System.out.println(spec[0] + " " + Base64.getEncoder().encodeToString(der));
            }
        }
    }
}
"""

NODE_KEYGEN = """
const crypto = require("crypto");
const count = Number(process.argv[1]);
const specs = [["P-256", "ec", "prime256v1"], ["P-384", "ec", "secp384r1"],
  ["P-521", "ec", "secp521r1"], ["secp256k1", "ec", "secp256k1"], ["Ed25519", "ed25519"],
  ["X25519", "x25519"], ["Ed448", "ed448"], ["X448", "x448"]];
for (const [name, type, curve] of specs) {
  for (let i = 0; i < count; i++) {
    const { privateKey } = crypto.generateKeyPairSync(type, curve ? { namedCurve: curve } : {});
    const der = privateKey.export({ type: "pkcs8", format: "der" });
    console.log(name + " " + der.toString("base64"));
  }
}
"""

OPENSSL_ALGORITHMS = {
    "P-256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "P-384": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    "P-521": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
    "secp256k1": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1"],
    "Ed25519": ["-algorithm", "ED25519"],
    "X25519": ["-algorithm", "X25519"],
    "Ed448": ["-algorithm", "ED448"],
    "X448": ["-algorithm", "X448"],
}
ECX_GENERATE = {
    "Ed25519": ed25519.Ed25519PrivateKey.generate,
    "X25519": x25519.X25519PrivateKey.generate,
    "Ed448": ed448.Ed448PrivateKey.generate,
    "X448": x448.X448PrivateKey.generate,
}
# Java's SunEC has no secp256k1 since JDK 16.
EXPECTED_ALGORITHMS = {
    "openssl": set(OPENSSL_ALGORITHMS),
    "cryptography": set(OPENSSL_ALGORITHMS),
    "java": set(OPENSSL_ALGORITHMS) - {"secp256k1"},
    "node": set(OPENSSL_ALGORITHMS),
}


def private_value(key: PrivateKeyTypes) -> bytes:
    """The scalar (big-endian, curve size) or the raw RFC 7748/8032 private bytes."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        size = (key.curve.key_size + 7) // 8
        return key.private_numbers().private_value.to_bytes(size, "big")
    assert isinstance(
        key,
        ed25519.Ed25519PrivateKey
        | x25519.X25519PrivateKey
        | ed448.Ed448PrivateKey
        | x448.X448PrivateKey,
    )
    return key.private_bytes_raw()


def keys_from_lines(generator: str, output: str) -> list[RealKey]:
    """Lines of "<algorithm> <base64 PKCS#8 DER>" as the Java and Node programs print them."""
    counters: dict[str, int] = {}
    keys = []
    for line in output.splitlines():
        algorithm, der = line.split()
        key = serialization.load_der_private_key(base64.b64decode(der), None)
        index = counters[algorithm] = counters.get(algorithm, -1) + 1
        keys.append(RealKey(generator, algorithm, index, private_value(key)))
    return keys


def openssl_keys(count: int) -> list[RealKey]:
    keys = []
    for algorithm, options in OPENSSL_ALGORITHMS.items():
        for index in range(count):
            pem = subprocess.run(
                ["openssl", "genpkey", *options], check=True, capture_output=True
            ).stdout
            private = private_value(serialization.load_pem_private_key(pem, None))
            keys.append(RealKey("openssl", algorithm, index, private))
    return keys


def cryptography_keys(count: int) -> list[RealKey]:
    keys = []
    for algorithm in OPENSSL_ALGORITHMS:
        for index in range(count):
            key: PrivateKeyTypes
            if algorithm in ECX_GENERATE:
                key = ECX_GENERATE[algorithm]()
            else:
                key = ec.generate_private_key(CURVE[algorithm].curve)
            keys.append(RealKey("cryptography", algorithm, index, private_value(key)))
    return keys


def java_keys(tmp_path: Path, count: int) -> list[RealKey]:
    source = tmp_path / "KeyGen.java"
    source.write_text(JAVA_KEYGEN)
    output = subprocess.run(
        ["java", str(source), str(count)], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    return keys_from_lines("java", output)


def node_keys(count: int) -> list[RealKey]:
    output = subprocess.run(
        ["node", "-e", NODE_KEYGEN, str(count)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    return keys_from_lines("node", output)


@pytest.fixture(scope="module")
def real_keys(tmp_path_factory: pytest.TempPathFactory) -> list[RealKey]:
    missing = [tool for tool in ("openssl", "java", "node") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"key generators not installed: {', '.join(missing)}")
    count = KEYS_PER_GENERATOR
    return [
        *openssl_keys(count),
        *cryptography_keys(count),
        *java_keys(tmp_path_factory.mktemp("java"), count),
        *node_keys(count),
    ]


def wide_pass_rejects(curve: Curve, number: bytes) -> bool:
    """The wide pass's only curve-specific filter: the top byte bound of the order."""
    top_byte_max = curve.order >> (8 * (curve.size_bytes - 1))
    return number[0] > top_byte_max


def prefilter_failures(key: RealKey) -> list[str]:
    """Which prefilter conditions a real key's number fails, in either byte order."""
    failures = []
    curve = CURVE.get(key.algorithm)
    if curve is not None and not 1 <= int.from_bytes(key.private, "big") < curve.order:
        failures.append("range")
    for number in (key.private, key.private[::-1]):
        array = np.frombuffer(number, dtype=np.uint8)
        if not looks_random(number) or not random_windows(array, 0, 1, len(number))[0]:
            failures.append("byte statistics")
    if curve is not None and wide_pass_rejects(curve, key.private):
        failures.append("top byte")
    return failures


def test_every_prefilter_condition_holds_on_real_keys_of_every_generator(
    real_keys: list[RealKey],
) -> None:
    made = {(key.generator, key.algorithm) for key in real_keys}
    for generator, algorithms in EXPECTED_ALGORITHMS.items():
        assert {(generator, algorithm) for algorithm in algorithms} <= made
    assert len(real_keys) >= KEYS_PER_GENERATOR * 31
    # Labels only: a failure must not print a key's bytes.
    failed = [
        f"{key.label}: {prefilter_failures(key)}" for key in real_keys if prefilter_failures(key)
    ]
    assert failed == []


def test_p521_scalars_of_real_keys_fit_in_66_bytes_with_a_top_byte_of_at_most_one(
    real_keys: list[RealKey],
) -> None:
    p521 = [key for key in real_keys if key.algorithm == "P-521"]
    assert len(p521) >= 4 * KEYS_PER_GENERATOR
    assert all(len(key.private) == 66 and key.private[0] <= 1 for key in p521)


# --- Byte statistics on memory that is not a key ----------------------------------------------


def memory_samples() -> dict[str, bytes]:
    pointers = b"".join(struct.pack("<Q", 0x7F3A_0000_0000 + 0x40 * i) for i in range(8))
    heap_pointers = b"".join(struct.pack("<Q", 0x5555_5555_9000 + 0x18 * i) for i in range(8))
    text = b"2024-05-17 12:00:01 INFO request served in 12 ms\n" * 2
    return {
        "zeros": bytes(64),
        "library pointers": pointers,
        "heap pointers": heap_pointers,
        "small ints": b"".join(struct.pack("<II", i, 4 * i) for i in range(8)),
        "ascii text": text,
        "utf-16 text": text.decode().encode("utf-16-le"),
        "msvc fill": b"\xcd" * 64,
        "deadbeef": bytes.fromhex("deadbeef") * 16,
        "repeated word": os.urandom(8) * 8,
    }


@pytest.mark.parametrize("width", [32, 48, 56, 57, 66])
@pytest.mark.parametrize("name", list(memory_samples()))
def test_ordinary_memory_is_not_taken_for_a_number(name: str, width: int) -> None:
    sample = (memory_samples()[name] * 2)[:width]
    assert not looks_random(sample)


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(
        st.one_of(
            st.binary(min_size=1, max_size=16),
            st.sampled_from([b"\x00" * 4, b"AAAA", b"\xcd" * 8, b"\x01\x02" * 4]),
        ),
        min_size=1,
        max_size=10,
    ),
    width=st.sampled_from([32, 48, 57, 66]),
)
def test_vectorised_and_single_checks_agree(parts: list[bytes], width: int) -> None:
    value = (b"".join(parts) * width)[:width]
    array = np.frombuffer(value, dtype=np.uint8)
    assert looks_random(value) == bool(random_windows(array, 0, 1, width)[0])


@pytest.mark.parametrize("width", [32, 48, 56, 57, 66])
@pytest.mark.parametrize("first", [0, 3, 8])
def test_vectorised_windows_agree_with_single_checks_at_every_aligned_start(
    width: int, first: int
) -> None:
    data = os.urandom(512) + bytes(64) + b"text " * 40 + os.urandom(256) + b"\xcd" * 77
    data += b"".join(bytes([i % 7, 0x80 | i, i]) * 3 for i in range(64))
    array = np.frombuffer(data, dtype=np.uint8)
    starts = list(range(first, len(data) - width + 1, 8))
    vectorised = random_windows(array, first, len(starts), width).tolist()
    assert vectorised == [looks_random(data[s : s + width]) for s in starts]
    assert random_starts(array, first, len(data), width) == [
        s for s, passed in zip(starts, vectorised, strict=True) if passed
    ]


# --- Helpers: known keys, scans, cores ----------------------------------------------------


def public_pem(public_key: PublicKeyTypes) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def write_known(tmp_path: Path, *public_keys: PublicKeyTypes) -> Path:
    path = tmp_path / "known.pem"
    path.write_bytes(b"".join(public_pem(key) for key in public_keys))
    return path


def scan_findings(path: Path, known: Path | None, deep: bool = False) -> list[Finding]:
    config = ScanConfig(paths=(str(path),), known_keys=(known,) if known else (), deep=deep)
    report = scan(config)
    assert all(result.status.value == "ok" for result in report.inputs), report.inputs
    return list(report.findings)


def chunk_scanner(known: Path, config: SearchConfig | None = None, jobs: int = 1) -> ChunkScanner:
    engine = build_engine(EngineName.YARA_X, rule_files_in([BUILTIN_RULES]))
    searches = build_searches(load_known_keys([known]), config or SearchConfig())
    return ChunkScanner(engine, PARSERS, chunk_size=CHUNK, jobs=jobs, searches=searches)


def scanned_offsets(scanner: ChunkScanner, path: Path, detector: str) -> list[int]:
    dump = reader_for(path.read_bytes()[:4096]).read(path, path.stat().st_size)
    candidates = scanner.scan_file(path, dump.regions)
    return sorted(c.offset for c in candidates if c.detector == detector)


def key_with_scalar(curve: Curve, scalar: int) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(scalar, curve.curve)


def scalar_of(key: ec.EllipticCurvePrivateKey) -> int:
    return key.private_numbers().private_value


HEAP_ADDRESS = 0x5555_5600_0000
LIMBS_ADDRESS = 0x7F3A_1200_0000
HEAP_32 = 0x0805_0000
LIMBS_32 = 0x0960_0000


@dataclass(frozen=True)
class Descriptor:
    """struct bignum_st as a 64-bit (or 32-bit) little-endian build lays it out."""

    pointer: int
    top: int
    dmax: int
    neg: int = 0
    flags: int = 0x9  # BN_FLG_MALLOCED | BN_FLG_SECURE, what OpenSSL 3 gives a private key

    def pack(self, pointer_size: int = 8) -> bytes:
        pointer = "Q" if pointer_size == 8 else "I"
        return struct.pack(
            f"<{pointer}iiiI", self.pointer, self.top, self.dmax, self.neg, self.flags
        )


@dataclass(frozen=True)
class PlantedCore:
    path: Path
    descriptor_offset: int
    heap_offset: int


def background(size: int) -> bytearray:
    """Heap-like filler: pointers, small ints and random words, never a key."""
    words = []
    for index in range(size // 8):
        kind = index % 4
        if kind == 0:
            words.append(struct.pack("<Q", HEAP_ADDRESS + 0x30 * index))
        elif kind == 1:
            words.append(struct.pack("<II", index % 64, 1))
        else:
            words.append(os.urandom(8))
    return bytearray(b"".join(words))


def bignum_core(
    tmp_path: Path,
    descriptor: bytes,
    limbs: bytes,
    *,
    descriptor_at: int = 0x208,
    heap_size: int = 0x1000,
    elfclass: int = 64,
    aligned_segments: bool = False,
    limbs_at: int = 0x40,
) -> PlantedCore:
    """An ELF core: a heap segment holding the descriptor, a second segment holding the limbs.

    Without `aligned_segments`, the segments' file offsets are 4 mod 8 while their
    addresses are page-aligned (as gcore writes them when the notes end there).
    """
    heap = background(heap_size)
    heap[descriptor_at : descriptor_at + len(descriptor)] = descriptor
    limb_segment = background(0x1000)
    limb_segment[limbs_at : limbs_at + len(limbs)] = limbs[: 0x1000 - limbs_at]
    heap_address, limbs_address = (
        (HEAP_ADDRESS, LIMBS_ADDRESS) if elfclass == 64 else (HEAP_32, LIMBS_32)
    )
    segments = [
        Segment(vaddr=heap_address, flags=PF_R | PF_W, data=bytes(heap)),
        Segment(vaddr=limbs_address, flags=PF_R | PF_W, data=bytes(limb_segment)),
    ]
    machine = EM_X86_64 if elfclass == 64 else EM_386
    notes = note(b"CORE", NT_PRPSINFO, prpsinfo(elfclass, "<", False, 4242, b"server"), "<")
    layout = build_elf_core(elfclass, "<", machine, segments, notes)
    if aligned_segments == (layout.load_offsets[0] % 8 != 0):
        notes += note(b"PAD", 0x100, bytes(4), "<")  # 12 + 4 + 4 bytes: moves segments by 4 mod 8
        layout = build_elf_core(elfclass, "<", machine, segments, notes)
    path = tmp_path / "planted.core"
    path.write_bytes(layout.data)
    heap_offset = layout.load_offsets[0]
    return PlantedCore(path, heap_offset + descriptor_at, heap_offset)


def limbs_of(scalar: int, top: int, limb_bytes: int = 8) -> bytes:
    return scalar.to_bytes(top * limb_bytes, "little")


# --- BIGNUM descriptors ---------------------------------------------------------------


@pytest.mark.parametrize("curve_name", list(CURVE))
@pytest.mark.parametrize("aligned_segments", [False, True], ids=["offset-4-mod-8", "aligned"])
def test_bignum_descriptor_in_a_core_gives_a_critical_finding_at_the_descriptor(
    tmp_path: Path, curve_name: str, aligned_segments: bool
) -> None:
    curve = CURVE[curve_name]
    key = ec.generate_private_key(curve.curve)
    top = -(-curve.curve.key_size // 64)
    descriptor = Descriptor(LIMBS_ADDRESS + 0x40, top, top + 2, flags=0xD).pack()
    core = bignum_core(
        tmp_path, descriptor, limbs_of(scalar_of(key), top), aligned_segments=aligned_segments
    )
    known = write_known(
        tmp_path, key.public_key(), ec.generate_private_key(curve.curve).public_key()
    )

    (finding,) = scan_findings(core.path, known)

    assert (finding.detector, finding.encoding) == ("ec-scalar", "bignum-le")
    assert (finding.offset, finding.length) == (core.descriptor_offset, 24)
    assert finding.address == HEAP_ADDRESS + 0x208
    assert finding.severity is Severity.CRITICAL
    assert finding.fingerprint == fingerprint_public_key(key.public_key())
    assert (finding.algorithm, finding.curve) == ("EC", curve.name)


def test_p521_scalar_whose_top_limb_is_zero_is_found_with_one_limb_fewer(tmp_path: Path) -> None:
    curve = CURVE["P-521"]
    key = key_with_scalar(curve, int.from_bytes(os.urandom(64), "big") | 1 << 511)
    descriptor = Descriptor(LIMBS_ADDRESS + 0x40, 8, 11).pack()
    core = bignum_core(tmp_path, descriptor, limbs_of(scalar_of(key), 8))
    (finding,) = scan_findings(core.path, write_known(tmp_path, key.public_key()))
    assert (finding.offset, finding.encoding) == (core.descriptor_offset, "bignum-le")


def test_32_bit_process_descriptor_with_32_bit_limbs_is_found(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    descriptor = Descriptor(LIMBS_32 + 0x40, 8, 8, flags=1).pack(pointer_size=4)
    core = bignum_core(
        tmp_path, descriptor, limbs_of(scalar_of(key), 8, 4), descriptor_at=0x20C, elfclass=32
    )
    (finding,) = scan_findings(core.path, write_known(tmp_path, key.public_key()))
    assert (finding.detector, finding.encoding) == ("ec-scalar", "bignum32-le")
    assert (finding.offset, finding.length) == (core.descriptor_offset, 20)
    assert finding.severity is Severity.CRITICAL


# (descriptor, where the key's limbs are in their segment): each breaks one rule only.
NOT_A_DESCRIPTOR = {
    "unknown flag bit": (Descriptor(LIMBS_ADDRESS + 0x40, 4, 4, flags=0x20), 0x40),
    "dmax below top": (Descriptor(LIMBS_ADDRESS + 0x40, 4, 3), 0x40),
    "dmax absurd": (Descriptor(LIMBS_ADDRESS + 0x40, 4, 5000), 0x40),
    "neg not boolean": (Descriptor(LIMBS_ADDRESS + 0x40, 4, 4, neg=2), 0x40),
    "top of another size": (Descriptor(LIMBS_ADDRESS + 0x40, 5, 5), 0x40),
    "pointer unaligned": (Descriptor(LIMBS_ADDRESS + 0x41, 4, 4), 0x41),
    "pointer unmapped": (Descriptor(0x7F3A_9900_0040, 4, 4), 0x40),
    "limbs cut by segment end": (Descriptor(LIMBS_ADDRESS + 0xFF0, 4, 4), 0xFF0),
}


@pytest.mark.parametrize("name", list(NOT_A_DESCRIPTOR))
def test_broken_descriptor_gives_no_finding(tmp_path: Path, name: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    descriptor, limbs_at = NOT_A_DESCRIPTOR[name]
    limbs = limbs_of(scalar_of(key), 4)
    core = bignum_core(tmp_path, descriptor.pack(), limbs, limbs_at=limbs_at)
    assert scan_findings(core.path, write_known(tmp_path, key.public_key())) == []


def test_descriptor_of_an_unknown_key_and_no_known_keys_give_no_finding(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    descriptor = Descriptor(LIMBS_ADDRESS + 0x40, 4, 4).pack()
    core = bignum_core(tmp_path, descriptor, limbs_of(scalar_of(key), 4))
    other = write_known(tmp_path, ec.generate_private_key(ec.SECP256R1()).public_key())
    assert scan_findings(core.path, other) == []
    assert scan_findings(core.path, None) == []


@pytest.mark.parametrize("shift", range(-32, 9, 8))
def test_descriptor_near_a_chunk_edge_with_limbs_in_another_chunk_is_found_once(
    tmp_path: Path, shift: int
) -> None:
    """The heap spans three 4 KiB chunks; the descriptor sits across or beside the first edge
    (shift < 0: it starts before the edge) and its limbs lie in another segment."""
    key = ec.generate_private_key(ec.SECP256R1())
    descriptor = Descriptor(LIMBS_ADDRESS + 0x40, 4, 6, flags=0xD).pack()
    core = bignum_core(
        tmp_path, descriptor, limbs_of(scalar_of(key), 4), descriptor_at=CHUNK + shift,
        heap_size=3 * CHUNK, aligned_segments=True,
    )  # fmt: skip
    scanner = chunk_scanner(write_known(tmp_path, key.public_key()))
    assert scanned_offsets(scanner, core.path, "ec-scalar") == [core.descriptor_offset]


def test_chunks_scanned_in_worker_processes_find_the_descriptor_once(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    descriptor = Descriptor(LIMBS_ADDRESS + 0x40, 6, 8).pack()
    core = bignum_core(
        tmp_path, descriptor, limbs_of(scalar_of(key), 6), descriptor_at=5 * CHUNK - 8,
        heap_size=8 * CHUNK, aligned_segments=True,
    )  # fmt: skip
    scanner = chunk_scanner(write_known(tmp_path, key.public_key()), jobs=2)
    assert scanned_offsets(scanner, core.path, "ec-scalar") == [core.descriptor_offset]


# --- ASN.1 remnants ----------------------------------------------------------------------


def scalar_with(curve: Curve, top_byte: int) -> int:
    """A valid scalar whose big-endian top byte is `top_byte` (rest random)."""
    rest = int.from_bytes(os.urandom(curve.size_bytes - 1), "big")
    return (top_byte << (8 * (curve.size_bytes - 1))) | rest


REMNANTS = [
    # (curve, tag + length bytes, top byte of the scalar, encoding)
    ("P-256", "0420", 0x5A, "der-octet-string"),
    ("P-256", "0220", 0x5A, "der-integer"),
    ("P-256", "022100", 0xC3, "der-integer"),
    ("secp256k1", "0420", 0x9E, "der-octet-string"),
    ("secp256k1", "022100", 0x9E, "der-integer"),
    ("P-384", "0430", 0x77, "der-octet-string"),
    ("P-384", "023100", 0xE1, "der-integer"),
    ("P-521", "0442", 0x01, "der-octet-string"),
    ("P-521", "0441", 0x00, "der-octet-string"),
    ("P-521", "0242", 0x01, "der-integer"),
    ("P-521", "0241", 0x00, "der-integer"),
]


@pytest.mark.parametrize(("curve_name", "prefix", "top_byte", "encoding"), REMNANTS)
def test_asn1_remnant_in_a_raw_file_is_found_at_its_tag(
    tmp_path: Path, curve_name: str, prefix: str, top_byte: int, encoding: str
) -> None:
    curve = CURVE[curve_name]
    key = key_with_scalar(curve, scalar_with(curve, top_byte))
    value = scalar_of(key).to_bytes(curve.size_bytes, "big")
    if prefix in ("0441", "0241"):
        value = value[1:]  # P-521 without its zero top byte
    remnant = bytes.fromhex(prefix) + value
    offset = 3001  # odd: remnants are bytes, not words
    data = bytearray(os.urandom(8192))
    data[offset : offset + len(remnant)] = remnant
    path = tmp_path / "heap.raw"
    path.write_bytes(bytes(data))

    (finding,) = scan_findings(path, write_known(tmp_path, key.public_key()))

    assert (finding.detector, finding.encoding) == ("ec-scalar", encoding)
    assert (finding.offset, finding.length) == (offset, len(remnant))
    assert finding.severity is Severity.CRITICAL


def test_integer_that_is_not_der_minimal_is_not_taken(tmp_path: Path) -> None:
    """02 20 followed by a byte >= 0x80 would be a negative INTEGER: not a scalar."""
    curve = CURVE["P-256"]
    key = key_with_scalar(curve, scalar_with(curve, 0xC3))
    path = tmp_path / "heap.raw"
    path.write_bytes(
        os.urandom(100) + b"\x02\x20" + scalar_of(key).to_bytes(32, "big") + os.urandom(100)
    )
    assert scan_findings(path, write_known(tmp_path, key.public_key())) == []


@settings(max_examples=25, deadline=None)
@given(edge=st.integers(1, 3), shift=st.integers(-40, 4))
def test_remnant_across_any_chunk_edge_is_found_once(
    remnant_setup: tuple[ChunkScanner, bytes],
    tmp_path_factory: pytest.TempPathFactory,
    edge: int,
    shift: int,
) -> None:
    scanner, remnant = remnant_setup
    offset = edge * CHUNK + shift
    data = bytearray(os.urandom(4 * CHUNK))
    data[offset : offset + len(remnant)] = remnant
    path = tmp_path_factory.mktemp("edge") / "heap.raw"
    path.write_bytes(bytes(data))
    assert scanned_offsets(scanner, path, "ec-scalar") == [offset]


@pytest.fixture(scope="module")
def remnant_setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[ChunkScanner, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    known = write_known(tmp_path_factory.mktemp("known"), key.public_key())
    return chunk_scanner(known), b"\x04\x20" + scalar_of(key).to_bytes(32, "big")


# --- The --deep wide pass ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("curve_name", "byte_order"),
    [("P-256", "little"), ("P-256", "big"), ("P-521", "little"), ("P-384", "big")],
)
def test_bare_scalar_is_found_only_with_deep(
    tmp_path: Path, curve_name: str, byte_order: str
) -> None:
    curve = CURVE[curve_name]
    key = ec.generate_private_key(curve.curve)
    number = scalar_of(key).to_bytes(curve.size_bytes, byte_order)  # type: ignore[arg-type]
    offset = 1000  # 8-aligned in the file: a raw file's alignment
    data = bytearray(background(2048))
    data[offset : offset + len(number)] = number
    path = tmp_path / "heap.raw"
    path.write_bytes(bytes(data))
    known = write_known(tmp_path, key.public_key())

    assert scan_findings(path, known) == []
    (finding,) = scan_findings(path, known, deep=True)
    assert (finding.detector, finding.encoding) == (
        "ec-scalar",
        "le" if byte_order == "little" else "be",
    )
    assert (finding.offset, finding.length) == (offset, curve.size_bytes)


def test_wide_pass_stops_at_its_budget(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    data = os.urandom(2048) + scalar_of(key).to_bytes(32, "little") + bytes(64)
    path = tmp_path / "heap.raw"
    path.write_bytes(data)
    known = write_known(tmp_path, key.public_key())
    small = chunk_scanner(known, SearchConfig(deep=True, wide_budget=100))
    enough = chunk_scanner(known, SearchConfig(deep=True, wide_budget=1000))
    assert scanned_offsets(small, path, "ec-scalar") == []  # 512 random windows come first
    assert scanned_offsets(enough, path, "ec-scalar") == [2048]


def test_search_applies_only_to_supported_ec_keys() -> None:
    index = load_known_keys([])
    assert build_searches(index, SearchConfig()) == []
    assert EcScalarSearch.for_keys([], SearchConfig()) is None


# --- A live process --------------------------------------------------------------------------

# Generates an EC P-256 key and an Ed25519 key with cryptography, uses both
# (one signature each), never serialises the private halves, prints the public
# halves (SPKI DER, hex) and sleeps until killed.
HOLDER = """
import sys, time
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
ec_key = ec.generate_private_key(ec.SECP256R1())
ed_key = ed25519.Ed25519PrivateKey.generate()
ec_key.sign(b"hello", ec.ECDSA(hashes.SHA256()))
ed_key.sign(b"hello")
spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
public = [key.public_key().public_bytes(*spki).hex() for key in (ec_key, ed_key)]
print("READY", *public, flush=True)
time.sleep(300)
"""


@dataclass(frozen=True)
class LiveDump:
    core: Path
    ec_known: Path
    ed_known: Path
    ec_fingerprint: str
    ed_fingerprint: str


@pytest.fixture(scope="module")
def live_dump(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDump]:
    require_gcore()
    tmp_path = tmp_path_factory.mktemp("live")
    process = subprocess.Popen([sys.executable, "-c", HOLDER], stdout=subprocess.PIPE, text=True)
    try:
        _, ec_hex, ed_hex = read_ready_line(process, 30).split()
        core = gcore(process.pid, tmp_path / "core")
        keys = [serialization.load_der_public_key(bytes.fromhex(h)) for h in (ec_hex, ed_hex)]
        ec_known, ed_known = tmp_path / "ec.pem", tmp_path / "ed.pem"
        ec_known.write_bytes(public_pem(keys[0]))
        ed_known.write_bytes(public_pem(keys[1]))
        yield LiveDump(core, ec_known, ed_known, *(fingerprint_public_key(k) for k in keys))
    finally:
        stop(process)


def high_or_above(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity.rank >= Severity.HIGH.rank]


@pytest.mark.slow
def test_live_process_keys_are_found_as_numbers_only_with_known_keys(live_dump: LiveDump) -> None:
    config = ScanConfig(
        paths=(str(live_dump.core),), known_keys=(live_dump.ec_known, live_dump.ed_known)
    )
    report = scan(config)
    assert [result.status.value for result in report.inputs] == ["ok"]
    serious = high_or_above(list(report.findings))
    assert {f.severity for f in serious} == {Severity.CRITICAL}
    assert {(f.detector, f.fingerprint) for f in serious} == {
        ("ec-scalar", live_dump.ec_fingerprint),
        ("ecx-seed", live_dump.ed_fingerprint),
    }
    assert {f.region for f in serious} == {"anonymous rw-"}  # anonymous heap memory

    unknown = scan(ScanConfig(paths=(str(live_dump.core),)))
    assert high_or_above(list(unknown.findings)) == []


@pytest.mark.slow
def test_live_process_scalar_is_held_by_an_openssl_bignum(live_dump: LiveDump) -> None:
    findings = scan_findings(live_dump.core, live_dump.ec_known)
    scalars = [f for f in findings if f.detector == "ec-scalar"]
    assert scalars
    assert all(f.encoding == "bignum-le" and f.length == 24 for f in scalars)
    assert len({f.offset for f in scalars}) == len(scalars)


# --- Hostile memory: the searches never raise -------------------------------------------------


@pytest.fixture(scope="module")
def all_searches() -> list[ComponentSearch]:
    keys = [ec.generate_private_key(curve.curve).public_key() for curve in CURVES] + [
        generate().public_key() for generate in ECX_GENERATE.values()
    ]
    known = [
        KnownPublicKey(
            KnownKey(f"key{i}", "test", fingerprint_public_key(key), "any", None),
            key,
            public_der(key),
        )
        for i, key in enumerate(keys)
    ]
    config = SearchConfig(deep=True, wide_budget=200)
    return [
        search
        for search in (
            EcScalarSearch.for_keys(known, config),
            EcxSeedSearch.for_keys(known, config),
        )
        if search
    ]


def public_der(public_key: PublicKeyTypes) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass(frozen=True)
class HostileMemory:
    """Random bytes and descriptor-shaped words, at a window start, mapped or raw."""

    data: bytes = field(repr=False)
    words: tuple[int, ...]
    window_start: int
    owned: int
    address: int | None

    @property
    def body(self) -> bytes:
        return self.data + b"".join(struct.pack("<Q", word) for word in self.words)


HOSTILE_WORDS = [0, 4, 6, 9, 0xD, LIMBS_ADDRESS + 0x40, HEAP_ADDRESS + 8, 0x0805_0010]
HOSTILE = st.builds(
    HostileMemory,
    data=st.binary(max_size=600),
    words=st.lists(st.sampled_from(HOSTILE_WORDS), max_size=60).map(tuple),
    window_start=st.integers(0, 64),
    owned=st.integers(0, 700),
    address=st.one_of(st.none(), st.sampled_from([HEAP_ADDRESS, HEAP_32, HEAP_ADDRESS + 4])),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(memory=HOSTILE)
def test_searches_never_raise_on_hostile_memory(
    all_searches: list[ComponentSearch], tmp_path: Path, memory: HostileMemory
) -> None:
    body = memory.body
    path = tmp_path / "memory.bin"
    path.write_bytes(bytes(memory.window_start) + body)
    regions = [Region(memory.window_start, len(body), memory.address, "rw-")] if body else []
    window = Window(body, memory.window_start, memory.window_start + min(memory.owned, len(body)))
    fd = os.open(path, os.O_RDONLY)
    try:
        address_space = AddressSpace(fd, regions)
        for search in all_searches:
            for candidate in search.search(window, address_space):
                assert window.start <= candidate.offset
    finally:
        os.close(fd)


def test_whole_sec1_key_of_a_known_key_is_one_finding_not_two(tmp_path: Path) -> None:
    """The remnant pass sees the privateKey OCTET STRING inside a whole ECPrivateKey; the
    findings stage keeps the outer structure the DER detector reported."""
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    path = tmp_path / "heap.raw"
    path.write_bytes(os.urandom(333) + der + os.urandom(100))
    (finding,) = scan_findings(path, write_known(tmp_path, key.public_key()))
    assert (finding.detector, finding.offset, finding.length) == ("der-sec1", 333, len(der))
    assert finding.severity is Severity.CRITICAL


def test_memory_flooded_with_scalar_candidates_fails_the_input_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Distinct random remnants each cost a multiplication: past the per-chunk limit the input
    is reported as not scanned rather than stalling the scan (the limit is lowered here)."""
    monkeypatch.setattr(ec_scalar, "STRUCTURE_TESTS_PER_CHUNK", 50)
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "flood.raw"
    path.write_bytes(b"".join(b"\x04\x20" + os.urandom(32) for _ in range(200)))
    known = write_known(tmp_path, key.public_key())
    report = scan(ScanConfig(paths=(str(path),), known_keys=(known,)))
    (result,) = report.inputs
    assert result.status.value == "error"
    assert result.error is not None
    assert "EC scalar candidates" in result.error
    assert str(path) in result.error
