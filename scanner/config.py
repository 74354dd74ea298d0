"""The one frozen options object and the closed sets it is made of."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

MiB = 1024 * 1024
GiB = 1024 * MiB


class Severity(enum.Enum):
    """Finding severity; `rank` orders them for the gate."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


class FailOn(enum.Enum):
    """Gate threshold: a severity, or never."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"
    NEVER = "never"

    @property
    def severity(self) -> Severity | None:
        return None if self is FailOn.NEVER else Severity(self.value)


class OutputFormat(enum.Enum):
    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"
    SARIF = "sarif"


class EngineName(enum.Enum):
    """YARA engines behind the `detectors.engines` seam."""

    YARA_X = "yara-x"
    YARA_PYTHON = "yara-python"


DEFAULT_CHUNK_SIZE = 16 * MiB
DEFAULT_MAX_EXPANSION = 64 * GiB
DEFAULT_MAX_DEPTH = 16


@dataclass(frozen=True)
class ScanConfig:
    """Everything a scan needs; passed down the pipeline, never global.

    paths: files, directories or "-" for stdin.
    known_keys: files or directories of public keys to match (--known-keys).
    rules_dirs: extra YARA rule directories added to the built-in rules (--rules).
    engine: which YARA engine runs the first pass.
    max_expansion: bytes one top-level input may expand to through containers.
    max_depth: how deep containers may nest before the input is refused.
    chunk_size: bytes scanned per engine call (see detectors.base for the overlap contract).
    jobs: worker threads for the chunk scan.
    temp_dir: where container members are spooled (None: the system default).
    deep: also run the bounded brute-force searches for raw EC scalars and seeds
    of known keys (slower; see detectors.components).
    keystore_passwords: passwords to open keystores with (--password-file), besides
    the empty password and the public defaults (see keys.keystore); never in a repr.
    baseline: a baseline file of accepted fingerprints (--baseline; see scanner.baseline).
    """

    paths: tuple[str, ...]
    known_keys: tuple[Path, ...] = ()
    rules_dirs: tuple[Path, ...] = ()
    engine: EngineName = EngineName.YARA_X
    max_expansion: int = DEFAULT_MAX_EXPANSION
    max_depth: int = DEFAULT_MAX_DEPTH
    chunk_size: int = DEFAULT_CHUNK_SIZE
    jobs: int = 2
    temp_dir: Path | None = None
    deep: bool = False
    keystore_passwords: tuple[str, ...] = field(default=(), repr=False)
    baseline: Path | None = None
