"""rules/pem.yar and rules/openssh.yar through yara-python and yara-x, then their parsers.

Every artifact of test_pem.py is planted in every text form at odd offsets in
random bytes and in zero pages; both engines must report the same anchors, and
handing each anchor to the parser its rule names must give exactly the planted
candidates.  Payloads are compared by SHA-256 only.
"""

from __future__ import annotations

import random
import re
import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yara
import yara_x

from scanner.detectors.base import Candidate, Parser, Window
from scanner.detectors.openssh import (
    BASE64_MAGIC,
    OpenSshBase64Parser,
    OpenSshBinaryParser,
)
from scanner.detectors.pem import PemParser
from scanner.keys.base import PayloadKind

from .test_pem import ARTIFACT_NAMES, VARIANTS, PemArtifact, digest, pem_artifacts, plant_variant

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"
RULE_FILES = [RULES_DIR / "pem.yar", RULES_DIR / "openssh.yar"]
PARSERS: dict[str, Parser] = {
    parser.name: parser for parser in (PemParser(), OpenSshBinaryParser(), OpenSshBase64Parser())
}
OVERLAP = max(parser.max_length for parser in PARSERS.values())


@dataclass(frozen=True, order=True)
class Hit:
    rule: str
    parser: str
    offset: int


def compile_yara_python() -> Any:
    return yara.compile(filepaths={f"ns{i}": str(path) for i, path in enumerate(RULE_FILES)})


def compile_yara_x() -> Any:
    compiler = yara_x.Compiler()
    for index, path in enumerate(RULE_FILES):
        compiler.new_namespace(f"ns{index}")
        compiler.add_source(path.read_text(), origin=str(path))
    return compiler.build()


@pytest.fixture(scope="module")
def engines() -> tuple[Any, Any]:
    return compile_yara_python(), compile_yara_x()


def yara_python_hits(rules: Any, data: bytes) -> set[Hit]:
    return {
        Hit(match.rule, match.meta["parser"], instance.offset)
        for match in rules.match(data=data)
        for string in match.strings
        for instance in string.instances
    }


def yara_x_hits(rules: Any, data: bytes) -> set[Hit]:
    scanner = yara_x.Scanner(rules)
    return {
        Hit(rule.identifier, dict(rule.metadata)["parser"], match.offset)
        for rule in scanner.scan(data).matching_rules
        for pattern in rule.patterns
        for match in pattern.matches
    }


def scan_both(engines: tuple[Any, Any], data: bytes) -> set[Hit]:
    """The engines' anchors, which must be the same."""
    from_yara = yara_python_hits(engines[0], data)
    assert from_yara == yara_x_hits(engines[1], data)
    return from_yara


def parse_hits(hits: Iterable[Hit], window: Window) -> list[Candidate]:
    """What the chunk driver does: owned anchors to the parser the rule names."""
    candidates: list[Candidate] = []
    for hit in sorted(hits):
        if window.owns(window.start + hit.offset):
            candidates.extend(PARSERS[hit.parser].parse(window, hit.offset))
    return candidates


Summary = tuple[str, str, int, int, PayloadKind, str | None, str]


def summary(candidate: Candidate) -> Summary:
    payload = candidate.payload
    return (
        candidate.detector,
        candidate.encoding,
        candidate.offset,
        candidate.length,
        payload.kind,
        payload.algorithm_hint,
        digest(payload.data),
    )


# --- the rules themselves -------------------------------------------------------


def test_rules_compile_and_name_existing_parsers(engines: tuple[Any, Any]) -> None:
    yara_python_rules, yara_x_rules = engines
    from_yara = {rule.identifier: rule.meta["parser"] for rule in yara_python_rules}
    from_yara_x = {rule.identifier: dict(rule.metadata)["parser"] for rule in yara_x_rules}
    assert (
        from_yara
        == from_yara_x
        == {
            "dumpguard_pem_begin": "pem",
            "dumpguard_openssh_binary": "openssh-binary",
            "dumpguard_openssh_base64": "openssh-base64",
        }
    )


def test_rule_names_are_unique_across_the_rules_directory() -> None:
    names = [
        name
        for path in sorted(RULES_DIR.glob("*.yar"))
        for name in re.findall(
            r"^\s*(?:private\s+|global\s+)*rule\s+(\w+)", path.read_text(), flags=re.MULTILINE
        )
    ]
    assert len(names) == len(set(names))


def test_random_bytes_and_zero_pages_give_no_anchor(engines: tuple[Any, Any]) -> None:
    data = random.Random(1).randbytes(4 << 20) + bytes(4 << 20)
    assert scan_both(engines, data) == set()


# --- every artifact in every form, in one buffer ------------------------------------


@dataclass
class Layout:
    """A buffer being built: filler of one kind between planted items at odd offsets."""

    kind: str
    rng: random.Random
    parts: list[bytes]
    size: int = 0

    def plant(self, item: bytes) -> int:
        gap = self.rng.randrange(64, 600)
        gap += (self.size + gap + 1) % 2  # the item starts at an odd offset
        filler = bytes(gap) if self.kind == "zeros" else self.rng.randbytes(gap)
        self.parts += [filler, item]
        self.size += gap + len(item)
        return self.size - len(item)

    def data(self) -> bytes:
        return b"".join(self.parts) + bytes(333)


RAW_NEWLINE_VARIANTS = {
    "lf",
    "crlf",
    "indented-spaces",
    "indented-tabs-crlf",
    "one-line",
    "wrap-76",
}
RODATA = [
    b"-----BEGIN RSA PRIVATE KEY-----\x00\x00\x00\x00",
    b"-----BEGIN OPENSSH PRIVATE KEY-----\n\x00-----END OPENSSH PRIVATE KEY-----\n\x00",
    b"openssh-key-v1\x00\x00\x00\x00\x00none\x00",
    b"b3BlbnNzaC1rZXktdjE=\x00",
    "-----BEGIN %s-----\n".encode("utf-16le"),
]


def _openssh_base64_summary(item: PemArtifact, stored: bytes, offset: int) -> Summary:
    """The candidate the base64 parser gives inside a raw-newline OPENSSH PRIVATE KEY block."""
    anchor = stored.index(BASE64_MAGIC)
    run = stored[anchor : stored.index(b"-----END")].rstrip(b" \t\r\n")
    return (
        "openssh",
        "base64",
        offset + anchor,
        len(run),
        PayloadKind.OPENSSH_PRIVATE,
        None,
        digest(item.expected),
    )


def _plant_everything(layout: Layout, names: Sequence[str]) -> Counter[Summary]:
    artifacts = pem_artifacts()
    expected: Counter[Summary] = Counter()
    for name in (name for name in names if name in artifacts):
        item = artifacts[name]
        for variant in VARIANTS:
            planted = plant_variant(item, variant)
            offset = layout.plant(planted.stored)
            expected[
                (
                    "pem",
                    planted.encoding,
                    offset + planted.begin,
                    planted.length,
                    item.kind,
                    item.algorithm_hint,
                    digest(item.expected),
                )
            ] += 1
            if item.kind is PayloadKind.OPENSSH_PRIVATE and variant in RAW_NEWLINE_VARIANTS:
                expected[_openssh_base64_summary(item, planted.stored, offset)] += 1
        if item.kind is PayloadKind.OPENSSH_PRIVATE:
            offset = layout.plant(item.expected)
            expected[
                (
                    "openssh",
                    "binary",
                    offset,
                    len(item.expected),
                    item.kind,
                    None,
                    digest(item.expected),
                )
            ] += 1
    for decoy in RODATA:
        layout.plant(decoy)
    return expected


@pytest.mark.parametrize("kind", ["random", "zeros"])
def test_every_planted_block_gives_exactly_its_candidates(
    engines: tuple[Any, Any], kind: str
) -> None:
    layout = Layout(kind, random.Random(kind), [])
    expected = _plant_everything(layout, ARTIFACT_NAMES)
    data = layout.data()
    hits = scan_both(engines, data)
    found = Counter(summary(c) for c in parse_hits(hits, Window(data, 0, len(data))))
    assert found == expected
    assert sum(expected.values()) > 600


# --- the chunk overlap contract ------------------------------------------------------


def _chunk_windows(data: bytes, chunk_size: int) -> Iterable[Window]:
    for start in range(0, len(data), chunk_size):
        owned_end = min(start + chunk_size, len(data))
        yield Window(data[start : owned_end + OVERLAP], start, owned_end)


@pytest.mark.parametrize("variant", ["utf16le-json-crlf", "crlf", "indented-spaces"])
def test_blocks_across_every_chunk_edge_are_found_once(
    engines: tuple[Any, Any], variant: str
) -> None:
    """A block straddling a chunk edge is found once, by the chunk owning its anchor."""
    chunk_size = 2048
    planted = plant_variant(pem_artifacts()["rsa4096-pkcs8"], variant)
    assert planted.length > chunk_size  # every block crosses at least one edge
    spacing = 16 * chunk_size  # blocks planted this far apart never touch
    assert spacing > 2 * len(planted.stored)
    rng = random.Random(variant)
    data = bytearray(rng.randbytes(5 * spacing + 2 * chunk_size))
    expected_offsets = []
    for edge_index, before_edge in enumerate((1, 2, 17, planted.length // 2, planted.length - 1)):
        block_start = edge_index * spacing + chunk_size - before_edge - planted.begin
        data[block_start : block_start + len(planted.stored)] = planted.stored
        expected_offsets.append(block_start + planted.begin)
    candidates = [
        candidate
        for window in _chunk_windows(bytes(data), chunk_size)
        for candidate in parse_hits(scan_both(engines, window.data), window)
    ]
    assert sorted(c.offset for c in candidates) == expected_offsets
    assert {c.length for c in candidates} == {planted.length}


# --- real binaries hold header strings, never keys -------------------------------------


def _real_binaries() -> list[Path]:
    import cryptography.hazmat.bindings._rust as rust_binding

    found = [Path(rust_binding.__file__)]
    for library_dir in (Path("/usr/lib"), Path("/usr/lib64")):
        found += sorted(library_dir.glob("*/libcrypto.so.*"))[:1]
    for program in ("ssh-keygen", "ssh", "openssl"):
        location = shutil.which(program)
        if location:
            found.append(Path(location))
    return found


def test_header_strings_in_real_binaries_give_no_candidate(engines: tuple[Any, Any]) -> None:
    hits_seen = 0
    for binary in _real_binaries():
        data = binary.read_bytes()
        hits = scan_both(engines, data)
        hits_seen += len(hits)
        assert parse_hits(hits, Window(data, 0, len(data))) == [], binary
    assert hits_seen > 0  # the binaries do hold "-----BEGIN " and the openssh magic
