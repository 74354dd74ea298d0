"""The manifest: every artifact and the findings a scan of it must yield.

Schema (also in samples/README.md):

    {"schema_version": 1, "quick": bool, "known_keys_dir": "known-keys",
     "artifacts": [{"path", "kind", "description", "findings": [
         {"display_path", "offset", "kind", "algorithm", "fingerprint", "known_key_id"}]}]}

It holds fingerprints only, never key bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from samplegen.keys import KeyFact

SCHEMA_VERSION = 1
GCORE = "gcore"
PLANTED = "planted"
CONTAINER = "container"
KNOWN_KEYS = "known-keys"

KnownIdLookup = Callable[[str | None], str | None]


@dataclass(frozen=True)
class Placement:
    """One key a scan must report: under which display path, at which offset (None in dumps)."""

    display_path: str
    offset: int | None
    fact: KeyFact

    def seen_as(self, display_path: str) -> Placement:
        """The same key seen through a container, under the member's display path."""
        return Placement(display_path, self.offset, self.fact)


@dataclass(frozen=True)
class Made:
    """An artifact written to the out dir: path relative to it, and the keys it holds."""

    path: str
    kind: str
    description: str
    placements: tuple[Placement, ...]


@dataclass(frozen=True)
class ExpectedFinding:
    display_path: str
    offset: int | None
    kind: str
    algorithm: str | None
    fingerprint: str | None
    known_key_id: str | None


@dataclass(frozen=True)
class Artifact:
    path: str
    kind: str
    description: str
    findings: tuple[ExpectedFinding, ...]


def expect(placement: Placement, known_id: KnownIdLookup) -> ExpectedFinding:
    fact = placement.fact
    return ExpectedFinding(
        display_path=placement.display_path,
        offset=placement.offset,
        kind=fact.kind,
        algorithm=fact.algorithm,
        fingerprint=fact.fingerprint,
        known_key_id=known_id(fact.fingerprint),
    )


def artifact(made: Made, known_id: KnownIdLookup) -> Artifact:
    findings = tuple(expect(placement, known_id) for placement in made.placements)
    return Artifact(made.path, made.kind, made.description, findings)


def write_manifest(out_dir: Path, artifacts: list[Artifact], quick: bool) -> Path:
    document = {
        "schema_version": SCHEMA_VERSION,
        "quick": quick,
        "known_keys_dir": KNOWN_KEYS,
        "artifacts": [asdict(artifact) for artifact in artifacts],
    }
    path = out_dir / "manifest.json"
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path
