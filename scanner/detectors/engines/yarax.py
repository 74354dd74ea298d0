"""yara-x (the Rust successor of YARA) behind the engine seam."""

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


class YaraXEngine(Engine):
    name = EngineName.YARA_X
    module = "yara_x"
    # Measured: two threads scanning 128 MiB take 0.16 s against 0.13 s for one (yara-x
    # 1.23's Python binding holds the GIL while it scans).
    releases_gil = False

    @classmethod
    def compile(cls, rule_files: Sequence[Path]) -> YaraXEngine:
        import yara_x  # noqa: PLC0415  (optional engine: imported only when chosen)

        compiler = yara_x.Compiler()
        origins: dict[str, str] = {}
        for path in rule_files:
            namespace = f"ns{len(origins)}"
            compiler.new_namespace(namespace)
            try:
                compiler.add_source(path.read_text(encoding="utf-8"), origin=str(path))
            except (yara_x.CompileError, OSError, UnicodeDecodeError) as error:
                first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
                raise ConfigError(f"{path}: cannot compile YARA rules: {first_line}") from None
            origins[namespace] = str(path)
        rules = compiler.build()
        named = [
            (
                rule.identifier,
                parser_of(rule.identifier, dict(rule.metadata), origins[rule.namespace]),
            )
            for rule in rules
        ]
        return cls(rules, unique_rule_parsers(named))

    def scan(self, data: bytes) -> EngineScan:
        import yara_x  # noqa: PLC0415

        scanner = yara_x.Scanner(self._rules)
        scanner.max_matches_per_pattern(MATCH_CAP)
        results = scanner.scan(data)
        matches: list[RuleMatch] = []
        saturated = False
        for rule in results.matching_rules:
            parser = self._rule_parsers[rule.identifier]
            for pattern in rule.patterns:
                hits = pattern.matches
                saturated = saturated or len(hits) >= MATCH_CAP
                matches.extend(RuleMatch(rule.identifier, parser, hit.offset) for hit in hits)
        return EngineScan(tuple(matches), saturated)
