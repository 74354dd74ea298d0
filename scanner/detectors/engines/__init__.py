"""YARA engines, registered explicitly; `--engine` picks one by name."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from scanner.config import EngineName
from scanner.detectors.engines.base import Engine, EngineScan, RuleMatch
from scanner.detectors.engines.yarapython import YaraPythonEngine
from scanner.detectors.engines.yarax import YaraXEngine
from scanner.errors import ConfigError

ENGINES: dict[EngineName, type[Engine]] = {
    EngineName.YARA_X: YaraXEngine,
    EngineName.YARA_PYTHON: YaraPythonEngine,
}


def build_engine(name: EngineName, rule_files: Sequence[Path]) -> Engine:
    engine_class = ENGINES[name]
    if not engine_class.available():
        raise ConfigError(f"engine {name.value} is not installed (pip install {name.value})")
    return engine_class.compile(rule_files)


__all__ = ["ENGINES", "Engine", "EngineScan", "RuleMatch", "build_engine"]
