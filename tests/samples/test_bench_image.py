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
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from scanner.keys.fingerprint import fingerprint_public_key

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
    keyed_pages = _pages_under(
        (int(str(key["offset"])), int(str(key["length"]))) for key in _keys(manifest)
    )
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
    keyed_pages = _pages_under((key.offset, key.length) for key in first.keys + second.keys)
    pages_a = bench_image.iter_pages(tmp_path / "a/image.raw")
    pages_b = bench_image.iter_pages(tmp_path / "b/image.raw")
    for index, (page_a, page_b) in enumerate(zip(pages_a, pages_b, strict=True)):
        if layout[index] is not bench_image.PageKind.RANDOM and index not in keyed_pages:
            assert page_a == page_b, f"page {index}"

    _, reused = bench_image.ensure_image(tmp_path / "a", params)
    assert reused
    _, reused = bench_image.ensure_image(tmp_path / "a", bench_image.BuildParams(4 * MiB, seed=12))
    assert not reused
    assert json.loads((tmp_path / "a/planted.json").read_text())["params"]["seed"] == 12


def test_sizes_that_are_not_whole_pages_are_refused() -> None:
    with pytest.raises(ValueError, match="multiple of 4096"):
        bench_image.check_size(4 * MiB + 1)
    assert bench_image.parse_size("256MiB") == 256 * MiB
