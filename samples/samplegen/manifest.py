"""The manifest: every artifact and the findings a scan of it must yield.

Schema (also in samples/README.md):

    {"schema_version": 1, "quick": bool, "known_keys_dir": "known-keys",
     "known_keys_raw_dir": "known-keys-raw",
     "artifacts": [{"path", "kind", "description", "findings": [
         {"display_path", "offset", "kind", "algorithm", "fingerprint", "known_key_id"}]}]}

A "gcore-raw" artifact (a dump holding a key only as raw numbers) has two more
fields: "pem_copy_present" (bool) and "raw_layouts" ([{"component", "layout",
"offset"}]), where the numbers were found.  It holds fingerprints and offsets
only, never key bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from samplegen.keys import KeyFact

SCHEMA_VERSION = 1
GCORE = "gcore"
GCORE_RAW = "gcore-raw"
PLANTED = "planted"
CONTAINER = "container"
KNOWN_KEYS = "known-keys"
KNOWN_KEYS_RAW = "known-keys-raw"

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
class RawLayout:
    """Where a dump holds one private number of its key, and in which byte order.

    component: "p", "q", "d" (RSA) or "ec-scalar"; layout: "be" (big-endian
    bytes), "le" (little-endian bytes, as in 64-bit BIGNUM limbs) or
    "be32-words-le" (32-bit words most significant first, each little-endian,
    as in a JVM BigInteger's int[] mag); offset: file offset in the dump of the
    number's first byte.
    """

    component: str
    layout: str
    offset: int


@dataclass(frozen=True)
class RawEvidence:
    """What a raw-number dump was verified to hold (no key bytes: names and offsets)."""

    pem_copy_present: bool
    raw_layouts: tuple[RawLayout, ...]


@dataclass(frozen=True)
class Made:
    """An artifact written to the out dir: path relative to it, and the keys it holds."""

    path: str
    kind: str
    description: str
    placements: tuple[Placement, ...]
    raw: RawEvidence | None = None


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
    raw: RawEvidence | None = None


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
    return Artifact(made.path, made.kind, made.description, findings, made.raw)


def artifact_document(artifact: Artifact) -> dict[str, Any]:
    """The artifact's manifest entry; the raw-number fields only on dumps that have them."""
    document = asdict(artifact)
    raw = document.pop("raw")
    if raw is not None:
        document.update(raw)
    return document


def write_manifest(out_dir: Path, artifacts: list[Artifact], quick: bool) -> Path:
    document = {
        "schema_version": SCHEMA_VERSION,
        "quick": quick,
        "known_keys_dir": KNOWN_KEYS,
        "known_keys_raw_dir": KNOWN_KEYS_RAW,
        "artifacts": [artifact_document(artifact) for artifact in artifacts],
    }
    path = out_dir / "manifest.json"
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path
