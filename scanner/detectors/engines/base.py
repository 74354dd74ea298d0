"""The seam between dumpguard and a YARA engine.

An engine compiles rule files once and scans byte buffers.  It reports, for
every string match, the rule's `parser` metadata and the match offset; the
chunk driver (`scanner.detectors.scan`) decides which matches a chunk owns.

YARA and yara-x both cap the matches they record per pattern and scan (one
million by default) and drop later ones silently.  Engines report when a
pattern reached the cap (`saturated`), and the driver then rescans the window
in smaller pieces, so a flood of decoy matches cannot hide a real key.
"""

from __future__ import annotations

import abc
import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from scanner.config import EngineName
from scanner.errors import ConfigError

MATCH_CAP = 1_000_000
RULE_SUFFIXES = (".yar", ".yara")


@dataclass(frozen=True)
class RuleMatch:
    """One string match: `offset` is relative to the scanned buffer."""

    rule: str
    parser: str
    offset: int


@dataclass(frozen=True)
class EngineScan:
    matches: tuple[RuleMatch, ...]
    saturated: bool


class Engine(abc.ABC):
    """A compiled rule set ready to scan buffers; safe to call from several threads.

    `rules` is the engine library's compiled rules object; `rule_parsers` maps
    each rule's identifier to the parser its metadata names.
    """

    name: ClassVar[EngineName]
    module: ClassVar[str]  # the Python package the engine needs
    # Whether scan() lets other Python threads run meanwhile; if not, the chunk driver
    # uses worker processes to keep both cores busy (see detectors.scan).
    releases_gil: ClassVar[bool]

    def __init__(self, rules: Any, rule_parsers: Mapping[str, str]) -> None:
        self._rules = rules
        self._rule_parsers = dict(rule_parsers)

    @classmethod
    def available(cls) -> bool:
        """Whether the engine's Python package is installed (checked, never imported here)."""
        return importlib.util.find_spec(cls.module) is not None

    @classmethod
    @abc.abstractmethod
    def compile(cls, rule_files: Sequence[Path]) -> Engine:
        """Compile `rule_files`; raise ConfigError naming the file on a bad rule."""

    @property
    def rule_parsers(self) -> Mapping[str, str]:
        """Each rule's identifier mapped to the parser its metadata names."""
        return self._rule_parsers

    @abc.abstractmethod
    def scan(self, data: bytes) -> EngineScan:
        """All string matches in `data`."""


def rule_files_in(directories: Sequence[Path]) -> list[Path]:
    """Every rule file under the given directories, in a stable order."""
    files: list[Path] = []
    for directory in directories:
        if not directory.is_dir():
            raise ConfigError(f"{directory}: rules directory does not exist")
        found = sorted(p for p in directory.rglob("*") if p.suffix in RULE_SUFFIXES)
        if not found:
            raise ConfigError(f"{directory}: no .yar or .yara rule files")
        files.extend(found)
    return files


def parser_of(rule: str, metadata: Mapping[str, object], origin: str) -> str:
    """The `parser` metadata of a rule; every rule must name the parser that proves its hits."""
    parser = metadata.get("parser")
    if not isinstance(parser, str) or not parser:
        raise ConfigError(f"{origin}: rule {rule} has no `parser` metadata naming its parser")
    return parser


def unique_rule_parsers(named: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Map rule identifiers to parsers; rule names must be unique."""
    rule_parsers: dict[str, str] = {}
    for rule, parser in named:
        if rule in rule_parsers:
            raise ConfigError(f"rule {rule} is defined twice; rule names must be unique")
        rule_parsers[rule] = parser
    return rule_parsers
