"""rules/der.yar and rules/der_public.yar under both engines, end to end.

Real keys are planted at odd offsets in random bytes and in zero pages; both
engines must report each one at exactly its offset under the rule naming its
parser, that parser must cut out exactly the structure, and the prover must
give the fingerprint of the key's own public half.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from scanner.config import EngineName
from scanner.detectors import PARSERS
from scanner.detectors.base import Window
from scanner.detectors.engines import Engine, RuleMatch, build_engine
from scanner.errors import KeyProofError
from scanner.keys.base import Key
from scanner.keys.prove import prove
from tests.keys.der_samples import DerSample, der_samples

REPO = Path(__file__).resolve().parents[2]
RULE_FILES = [REPO / "rules" / "der.yar", REPO / "rules" / "der_public.yar"]
ENGINE_NAMES = [EngineName.YARA_X, EngineName.YARA_PYTHON]
SAMPLES = der_samples()


@dataclass(frozen=True)
class Plant:
    sample: DerSample
    offset: int


@pytest.fixture(scope="module")
def engines() -> dict[EngineName, Engine]:
    return {name: build_engine(name, RULE_FILES) for name in ENGINE_NAMES}


def planted_buffer(background: str, seed: int) -> tuple[bytes, list[Plant]]:
    """Every sample once, each after an odd-sized gap of random or zero bytes."""
    gap_sizes = [
        4096 + 2 * ((seed * 7919 + index * 104729) % 500) + 1 for index in range(len(SAMPLES))
    ]
    data = bytearray()
    plants = []
    for sample, gap in zip(SAMPLES, gap_sizes, strict=True):
        data += os.urandom(gap) if background == "random" else bytes(gap)
        plants.append(Plant(sample, len(data)))
        data += sample.der
    data += os.urandom(777) if background == "random" else bytes(777)
    return bytes(data), plants


def match_set(engine: Engine, data: bytes) -> set[RuleMatch]:
    return set(engine.scan(data).matches)


def test_rules_are_named_and_typed_by_convention(engines: dict[EngineName, Engine]) -> None:
    for engine in engines.values():
        assert engine.rule_parsers, "no rules compiled"
        for rule, parser in engine.rule_parsers.items():
            assert rule.startswith("dumpguard_der_")
            assert parser in PARSERS
            assert parser.startswith("der-")
    assert engines[EngineName.YARA_X].rule_parsers == engines[EngineName.YARA_PYTHON].rule_parsers


def test_rule_strings_are_hex_without_unbounded_parts() -> None:
    """Cheap patterns: hex strings only, no regular expressions, no text, no long jumps."""
    for path in RULE_FILES:
        for line in path.read_text().splitlines():
            if re.match(r"\s*\$\w+\s*=", line):
                assert re.fullmatch(r"\s*\$\w+ = \{[0-9A-F ?()|]+\}", line), line


@pytest.mark.parametrize("background", ["random", "zero"])
def test_planted_keys_are_found_at_their_offsets_by_both_engines(
    engines: dict[EngineName, Engine], background: str
) -> None:
    data, plants = planted_buffer(background, seed=3)
    found = {name: match_set(engine, data) for name, engine in engines.items()}
    assert found[EngineName.YARA_X] == found[EngineName.YARA_PYTHON]
    anchored = {(match.parser, match.offset) for match in found[EngineName.YARA_X]}
    for plant in plants:
        assert (plant.sample.parser, plant.offset) in anchored, plant.sample.name


@pytest.mark.parametrize("engine_name", ENGINE_NAMES)
def test_every_planted_key_is_parsed_and_proven(
    engines: dict[EngineName, Engine], engine_name: EngineName
) -> None:
    data, plants = planted_buffer("random", seed=11)
    window = Window(data, 0x10_0000_0001, 0x10_0000_0001 + len(data))
    by_anchor = {(match.parser, match.offset) for match in engines[engine_name].scan(data).matches}
    for plant in plants:
        assert (plant.sample.parser, plant.offset) in by_anchor, plant.sample.name
        [candidate] = PARSERS[plant.sample.parser].parse(window, plant.offset)
        assert candidate.offset == window.start + plant.offset
        assert candidate.length == len(plant.sample.der)
        key = prove(candidate.payload)
        assert key == expected_key(plant.sample), plant.sample.name


def expected_key(sample: DerSample) -> Key:
    return Key(sample.key_kind, sample.algorithm, sample.bits, sample.curve, sample.fingerprint)


def test_every_match_in_a_planted_buffer_proves_a_planted_key_or_nothing(
    engines: dict[EngineName, Engine],
) -> None:
    """Nested structures (PKCS#1 inside PKCS#8, SPKI inside a certificate) fire too;
    whatever fires must be one of the planted keys or be rejected."""
    data, plants = planted_buffer("random", seed=5)
    window = Window(data, 0, len(data))
    planted_fingerprints = {plant.sample.fingerprint for plant in plants}
    for match in engines[EngineName.YARA_X].scan(data).matches:
        for candidate in PARSERS[match.parser].parse(window, match.offset):
            try:
                key = prove(candidate.payload)
            except KeyProofError:
                continue
            assert key.fingerprint in planted_fingerprints


@pytest.mark.parametrize("engine_name", ENGINE_NAMES)
def test_no_match_on_zero_pages_or_random_bytes(
    engines: dict[EngineName, Engine], engine_name: EngineName
) -> None:
    engine = engines[engine_name]
    assert engine.scan(bytes(8 * 1024 * 1024)).matches == ()
    # Every pattern fixes at least five bytes besides its alternatives (the loosest,
    # SEC1 and 1024-bit RSAPublicKey, about 2^-53 per offset): 8 MiB of random
    # bytes match with a chance near 2^-30.
    assert engine.scan(os.urandom(8 * 1024 * 1024)).matches == ()
