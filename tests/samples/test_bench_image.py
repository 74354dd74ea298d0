"""The benchmark's image builder: keys sit where planted.json says; the page mix is as written."""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import string
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from scanner.keys.fingerprint import fingerprint_public_key
from scanner.keys.known import load_known_keys

REPO_ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024
PASSPHRASE = b"bench-test-passphrase"


def _load_builder() -> ModuleType:
    # samples/ is not a package: load the script as a module (registered, for its dataclasses)
    spec = importlib.util.spec_from_file_location(
        "bench_image", REPO_ROOT / "samples/bench_image.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_image"] = module
    spec.loader.exec_module(module)
    return module


bench_image = _load_builder()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    out_dir = tmp_path_factory.mktemp("bench")
    params = bench_image.BuildParams(size=32 * MiB, seed=7)
    bench_image.build_image(out_dir, params, passphrase=PASSPHRASE)
    return out_dir, json.loads((out_dir / "planted.json").read_text())


def _keys(manifest: dict[str, object]) -> list[dict[str, object]]:
    keys = manifest["keys"]
    assert isinstance(keys, list)
    return keys


def _raw(manifest: dict[str, object]) -> list[dict[str, object]]:
    numbers = manifest["raw"]
    assert isinstance(numbers, list)
    return numbers


def _int(record: dict[str, object], name: str) -> int:
    value = record[name]
    assert isinstance(value, int)
    return value


def _stored_spans(manifest: dict[str, object]) -> list[tuple[int, int]]:
    """(start, length) of everything written over the background: keys, headers and numbers."""
    keys = [(_int(key, "offset"), _int(key, "length")) for key in _keys(manifest)]
    numbers = [
        (_int(n, "offset") - _int(n, "header_length"), _int(n, "header_length") + _int(n, "length"))
        for n in _raw(manifest)
    ]
    return keys + numbers


def _load_key(record: dict[str, object], data: bytes) -> PrivateKeyTypes:
    """Parse the planted bytes the way their recorded format says they are stored."""
    if record["encoding"] == "utf-16le":
        data = data.decode("utf-16-le").encode("ascii")
    if record["format"] == "openssh":
        return serialization.load_ssh_private_key(data, password=None)
    if record["encoding"] == "der":
        return serialization.load_der_private_key(data, password=None)
    password = PASSPHRASE if record["kind"] == "encrypted-private-key" else None
    return serialization.load_pem_private_key(data, password=password)


def test_every_key_parses_at_its_recorded_offset_with_its_fingerprint(
    built: tuple[Path, dict[str, object]],
) -> None:
    out_dir, manifest = built
    image = (out_dir / "image.raw").read_bytes()
    for record in _keys(manifest):
        offset, length = record["offset"], record["length"]
        assert isinstance(offset, int)
        assert isinstance(length, int)
        key = _load_key(record, image[offset : offset + length])
        if record["kind"] == "encrypted-private-key":
            assert record["fingerprint"] is None
            assert image[offset:].startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        else:
            assert record["fingerprint"] == fingerprint_public_key(key.public_key()), record["name"]


def test_keys_are_varied_odd_and_cross_page_and_chunk_edges(
    built: tuple[Path, dict[str, object]],
) -> None:
    keys = _keys(built[1])
    assert len(keys) >= 10
    assert all(int(str(key["offset"])) % 2 == 1 for key in keys)
    # a 32 MiB image has one 16 MiB boundary inside it, so one key crosses it
    assert sum(bool(key["crosses_chunk_edge"]) for key in keys) == 1
    assert sum(bool(key["crosses_page_edge"]) for key in keys) >= 8
    formats = {(key["format"], key["encoding"]) for key in keys}
    assert {
        ("pem-pkcs8", "ascii"), ("pem-pkcs1", "ascii"), ("pem-sec1", "ascii"),
        ("der-pkcs8", "der"), ("pem-pkcs8", "utf-16le"), ("openssh", "ascii"),
        ("pem-encrypted-pkcs8", "ascii"),
    } <= formats  # fmt: skip
    algorithms = {(key["encoding"], key["algorithm"]) for key in keys}
    assert {("der", "RSA"), ("der", "EC"), ("der", "Ed25519")} <= algorithms
    spans = sorted(
        (int(str(k["offset"])), int(str(k["offset"])) + int(str(k["length"]))) for k in keys
    )
    assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans))


def test_manifest_records_placement_never_key_bytes(built: tuple[Path, dict[str, object]]) -> None:
    text = (built[0] / "planted.json").read_text()
    assert "BEGIN" not in text
    assert not re.search(r"[A-Za-z0-9+/]{65,}", text)  # no base64 body, no long hex
    for key in _keys(built[1]):
        assert set(key) == {
            "name", "format", "encoding", "kind", "algorithm", "offset", "length",
            "fingerprint", "crosses_page_edge", "crosses_chunk_edge",
        }  # fmt: skip
    for number in _raw(built[1]):
        assert set(number) == {
            "name", "kind", "algorithm", "component", "layout", "encoding", "detector",
            "offset", "length", "header_length", "fingerprint", "crosses_page_edge",
            "crosses_chunk_edge",
        }  # fmt: skip
        assert number["kind"] == "raw"


def _pages_under(spans: Iterable[tuple[int, int]]) -> set[int]:
    """Indexes of the pages a key was written over (offset, length)."""
    return {
        page
        for offset, length in spans
        for page in range(offset // 4096, (offset + length - 1) // 4096 + 1)
    }


_PRINTABLE = frozenset(string.printable.encode("ascii"))


def classify(page: bytes) -> str:
    """A page's kind judged from its bytes alone, independently of the builder."""
    if not any(page):
        return "zero"
    if _PRINTABLE.issuperset(page):
        return "text-ascii"
    if not any(page[1::2]) and _PRINTABLE.issuperset(page[0::2]):
        return "text-utf16le"
    words = np.frombuffer(page, "<u8")
    top = words >> np.uint64(40)
    if bool(np.all((words < 1024) | (top == 0x55) | (top == 0x7F))):
        return "pointer"
    assert len(set(page)) > 200, "neither text, pointers, zeros nor random bytes"
    return "random"


# the mix the builder's docstring documents: shares of pages by kind
DOCUMENTED_MIX = {
    "zero": 0.55, "pointer": 0.15, "text-ascii": 0.12, "text-utf16le": 0.03, "random": 0.15,
}  # fmt: skip


def test_page_mix_is_the_documented_one(built: tuple[Path, dict[str, object]]) -> None:
    out_dir, manifest = built
    params = manifest["params"]
    assert isinstance(params, dict)
    assert params["mix"] == DOCUMENTED_MIX
    page_total = 32 * MiB // 4096
    expected = {kind: int(share * page_total) for kind, share in DOCUMENTED_MIX.items()}
    expected["zero"] += page_total - sum(expected.values())
    assert manifest["page_counts"] == expected
    assert expected["random"] >= page_total // 10
    assert expected["zero"] > page_total // 2

    layout = bench_image.page_layout(bench_image.BuildParams(size=32 * MiB, seed=7))
    keyed_pages = _pages_under(_stored_spans(manifest))
    seen: Counter[str] = Counter()
    for index, page in enumerate(bench_image.iter_pages(out_dir / "image.raw")):
        if index in keyed_pages:
            continue
        kind = classify(page)
        assert kind == layout[index].value, f"page {index}"
        seen[kind] += 1
    assert sum(seen.values()) == page_total - len(keyed_pages)
    assert all(expected[kind] - seen[kind] <= len(keyed_pages) for kind in expected)


def test_background_is_reproducible_and_images_are_reused_only_when_params_match(
    tmp_path: Path,
) -> None:
    params = bench_image.BuildParams(size=4 * MiB, seed=11)
    first = bench_image.build_image(tmp_path / "a", params)
    second = bench_image.build_image(tmp_path / "b", params)
    # keys are fresh on every build (and so their lengths and edge offsets may differ)
    fresh = {k.fingerprint for k in second.keys if k.fingerprint}
    assert {k.fingerprint for k in first.keys if k.fingerprint}.isdisjoint(fresh)
    layout = bench_image.page_layout(params)
    keyed_pages = _pages_under(_stored_spans(first.to_json()) + _stored_spans(second.to_json()))
    pages_a = bench_image.iter_pages(tmp_path / "a/image.raw")
    pages_b = bench_image.iter_pages(tmp_path / "b/image.raw")
    for index, (page_a, page_b) in enumerate(zip(pages_a, pages_b, strict=True)):
        if layout[index] is not bench_image.PageKind.RANDOM and index not in keyed_pages:
            assert page_a == page_b, f"page {index}"

    _, reused = bench_image.ensure_image(tmp_path / "a", params)
    assert reused
    # the known-keys sets belong to the image's keys: a damaged set means a new image
    (tmp_path / "a/known/rsa-10/key-003.pem").unlink()
    rebuilt, reused = bench_image.ensure_image(tmp_path / "a", params)
    assert not reused
    assert rebuilt.raw[0].fingerprint not in {number.fingerprint for number in first.raw}
    assert bench_image.known_sets_intact(tmp_path / "a", rebuilt)
    _, reused = bench_image.ensure_image(tmp_path / "a", bench_image.BuildParams(4 * MiB, seed=12))
    assert not reused
    assert json.loads((tmp_path / "a/planted.json").read_text())["params"]["seed"] == 12


def test_sizes_that_are_not_whole_pages_are_refused() -> None:
    with pytest.raises(ValueError, match="multiple of 4096"):
        bench_image.check_size(4 * MiB + 1)
    assert bench_image.parse_size("256MiB") == 256 * MiB


# ---------------------------------------------------------------- raw numbers (issue 3)

# What each layout means, written out independently of the builder: the header before the
# number, and the alignment of the number's first byte as (modulus, residue).
LAYOUT_HEADERS = {"asn1-integer": bytes.fromhex("02818100"), "asn1-octet-string": b"\x04\x20"}
LAYOUT_ALIGNMENT = {
    "be-align8": (8, 0), "le-align8": (8, 0), "le-align4": (8, 4),
    "be32-words-le-align4": (4, 0), "asn1-integer": (2, 1), "asn1-octet-string": (2, 1),
}  # fmt: skip
LAYOUT_ENCODING = {
    "be-align8": "be", "le-align8": "le", "le-align4": "le",
    "be32-words-le-align4": "be32-words-le", "asn1-integer": "be", "asn1-octet-string": "be",
}  # fmt: skip


def decode_number(stored: bytes, encoding: str) -> int:
    if encoding == "le":
        return int.from_bytes(stored, "little")
    if encoding == "be32-words-le":  # 32-bit words, most significant first, each little-endian
        words = [stored[i : i + 4] for i in range(0, len(stored), 4)]
        return int.from_bytes(b"".join(word[::-1] for word in words), "big")
    assert encoding == "be"
    return int.from_bytes(stored, "big")


def _known_public_keys(out_dir: Path) -> dict[str, PublicKeyTypes]:
    """Every key in the known-keys sets by fingerprint, read from the PEM files."""
    keys = [
        serialization.load_pem_public_key(path.read_bytes())
        for path in (out_dir / "known").glob("*/*.pem")
    ]
    return {fingerprint_public_key(key): key for key in keys}


def _belongs_to(value: int, public_key: PublicKeyTypes) -> bool:
    """Whether `value` is a prime factor of the RSA modulus or the scalar of the EC point."""
    if isinstance(public_key, rsa.RSAPublicKey):
        modulus = public_key.public_numbers().n
        return 1 < value < modulus and modulus % value == 0 and value.bit_length() == 1024
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    derived = ec.derive_private_key(value, ec.SECP256R1()).public_key()
    return derived.public_numbers() == public_key.public_numbers()


def test_raw_numbers_sit_at_their_offsets_in_their_layout_and_belong_to_their_known_key(
    built: tuple[Path, dict[str, object]],
) -> None:
    out_dir, manifest = built
    image = (out_dir / "image.raw").read_bytes()
    known = _known_public_keys(out_dir)
    for number in _raw(manifest):
        offset, length, layout = _int(number, "offset"), _int(number, "length"), number["layout"]
        assert isinstance(layout, str)
        header = LAYOUT_HEADERS.get(layout, b"")
        assert number["header_length"] == len(header)
        assert image[offset - len(header) : offset] == header, number["name"]
        modulus, residue = LAYOUT_ALIGNMENT[layout]
        assert offset % modulus == residue, number["name"]
        assert number["encoding"] == LAYOUT_ENCODING[layout]
        stored = image[offset : offset + length]
        public_key = known[str(number["fingerprint"])]
        # the verdict alone goes into the assertion: a failure must not print the number
        belongs = _belongs_to(decode_number(stored, LAYOUT_ENCODING[layout]), public_key)
        assert belongs, number["name"]
        assert (number["algorithm"], number["detector"], length) in {
            ("RSA", "rsa-factor", 128), ("EC", "ec-scalar", 32),
        }  # fmt: skip
        # a different encoding of the same bytes is not the number (the layout matters)
        if number["encoding"] != "be":
            read_as_be = _belongs_to(int.from_bytes(stored, "big"), public_key)
            assert not read_as_be, number["name"]


def test_raw_numbers_cover_every_layout_both_primes_and_cross_page_edges(
    built: tuple[Path, dict[str, object]],
) -> None:
    numbers = _raw(built[1])
    assert {number["layout"] for number in numbers} == set(LAYOUT_ALIGNMENT)
    rsa_numbers = [number for number in numbers if number["algorithm"] == "RSA"]
    assert {number["component"] for number in rsa_numbers} == {"p", "q"}
    assert len({number["fingerprint"] for number in numbers}) == len(numbers)  # one key each
    assert any(_int(n, "offset") % 8 == 4 for n in numbers if n["layout"] == "le-align4")
    # the 32 MiB image's one 16 MiB boundary is a structured key's: the numbers meant for
    # chunk edges cross page edges instead
    assert sum(bool(number["crosses_page_edge"]) for number in numbers) >= 6
    assert not any(number["crosses_chunk_edge"] for number in numbers)
    spans = sorted((start, start + length) for start, length in _stored_spans(built[1]))
    assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans))


def test_in_a_1gib_image_raw_numbers_cross_their_own_16mib_boundaries() -> None:
    """Placement alone (no image written): the structured keys' lengths as zero bytes."""
    params = bench_image.BuildParams(size=1024 * MiB)
    blobs = [(spec, bytes(1700)) for spec in bench_image.KEY_SPECS]
    taken = [(offset, offset + 1700) for _, offset in bench_image.place_keys(params, blobs)]
    specs = bench_image.RAW_SPECS
    starts = bench_image.place_numbers(params, specs, taken)
    chunk = 16 * MiB
    key_boundaries = {
        end // chunk * chunk for start, end in taken if start // chunk != end // chunk
    }
    crossed: list[int] = []
    for spec, start in zip(specs, starts, strict=True):
        header = len(LAYOUT_HEADERS.get(spec.layout, b""))
        number_offset, end = start + header, start + header + spec.length
        modulus, residue = LAYOUT_ALIGNMENT[spec.layout]
        assert number_offset % modulus == residue
        if spec.placement == bench_image.CHUNK_EDGE:
            boundary = (end - 1) // chunk * chunk
            assert start < boundary < end, spec
            crossed.append(boundary)
    assert len(crossed) >= 6
    assert len(set(crossed)) == len(crossed)
    assert key_boundaries.isdisjoint(crossed)
    # one RSA prime and one P-256 scalar start just after the boundary, their header before it
    after = [
        spec.key_type
        for spec, start in zip(specs, starts, strict=True)
        if spec.placement == bench_image.CHUNK_EDGE
        and (start + len(LAYOUT_HEADERS.get(spec.layout, b""))) % chunk < 4
    ]
    assert sorted(after) == ["p256", "rsa2048"]


def _set_fingerprints(out_dir: Path, name: str) -> list[str]:
    directory = out_dir / "known" / name
    texts = [path.read_text() for path in sorted(directory.iterdir())]
    assert all(text.startswith("-----BEGIN PUBLIC KEY-----") for text in texts)
    assert not any("PRIVATE" in text for text in texts)
    return [
        fingerprint_public_key(serialization.load_pem_public_key(text.encode())) for text in texts
    ]


def test_known_sets_hold_the_planted_public_keys_and_decoys(
    built: tuple[Path, dict[str, object]],
) -> None:
    out_dir, manifest = built
    raw = _raw(manifest)
    planted_rsa = {n["fingerprint"] for n in raw if n["algorithm"] == "RSA"}
    planted_ec = {n["fingerprint"] for n in raw if n["algorithm"] == "EC"}
    sets = {name: _set_fingerprints(out_dir, name) for name in ("rsa-1", "rsa-10", "rsa-100")}
    sets["p256-10"] = _set_fingerprints(out_dir, "p256-10")
    assert {name: len(prints) for name, prints in sets.items()} == {
        "rsa-1": 1, "rsa-10": 10, "rsa-100": 100, "p256-10": 10,
    }  # fmt: skip
    assert all(len(set(prints)) == len(prints) for prints in sets.values())
    assert sets["rsa-1"] == [_first_rsa(raw)["fingerprint"]]
    assert planted_rsa <= set(sets["rsa-10"]) <= set(sets["rsa-100"])
    assert planted_ec <= set(sets["p256-10"])
    assert len(set(sets["rsa-100"]) - planted_rsa) == 100 - len(planted_rsa)  # decoys
    assert manifest["known_sets"] == sets
    structured = {key["fingerprint"] for key in _keys(manifest)}
    assert structured.isdisjoint(itertools.chain(*sets.values()))
    # dumpguard's own loader reads each set as --known-keys would
    assert len(load_known_keys([out_dir / "known" / "rsa-100"])) == 100
    rsa_sizes = {key.key_size for key in _known_public_keys(out_dir).values()
                 if isinstance(key, rsa.RSAPublicKey)}  # fmt: skip
    assert rsa_sizes == {2048}


def _first_rsa(raw: list[dict[str, object]]) -> dict[str, object]:
    """The rsa-1 key: the first RSA spec's, raw0 (planted.json lists numbers by offset)."""
    return next(number for number in raw if str(number["name"]).startswith("raw0-"))
