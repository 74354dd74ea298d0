"""yara-python (libyara) behind the engine seam: the baseline engine."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from scanner.config import EngineName
from scanner.detectors.engines.base import (
    MATCH_CAP,
    Engine,
    EngineScan,
    RuleMatch,
    parser_of,
    unique_rule_parsers,
)
from scanner.errors import ConfigError


class YaraPythonEngine(Engine):
    name = EngineName.YARA_PYTHON
    module = "yara"
    releases_gil = True  # yara-python releases it around yr_rules_scan_mem

    @classmethod
    def compile(cls, rule_files: Sequence[Path]) -> YaraPythonEngine:
        import yara  # noqa: PLC0415  (optional engine: imported only when chosen)

        filepaths = {f"ns{index}": str(path) for index, path in enumerate(rule_files)}
        try:
            rules = yara.compile(filepaths=filepaths)
        except yara.Error as error:
            raise ConfigError(f"cannot compile YARA rules: {error}") from None
        # yara-python's compiled rules do not say which file a rule came from.
        named = [
            (rule.identifier, parser_of(rule.identifier, rule.meta, "rules")) for rule in rules
        ]
        return cls(rules, unique_rule_parsers(named))

    def scan(self, data: bytes) -> EngineScan:
        matches: list[RuleMatch] = []
        saturated = False
        for rule in self._rules.match(data=data):
            parser = self._rule_parsers[rule.rule]
            for string in rule.strings:
                instances = string.instances
                saturated = saturated or len(instances) >= MATCH_CAP
                matches.extend(RuleMatch(rule.rule, parser, hit.offset) for hit in instances)
        return EngineScan(tuple(matches), saturated)
