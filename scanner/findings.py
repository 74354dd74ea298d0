"""Findings stage: attribution to regions, severity, and de-duplication.

Severity (issue #2): critical = the key's public half equals a known key;
high = a valid unencrypted private key; medium = an encrypted private key or
a keystore (PKCS#12, JKS, JCEKS; the keys of one that opens are findings too);
low = a private key lying inside a file-backed mapping of a program or library
(part of that file, not a secret the process leaked), unless it matches a
known key; info = public keys and certificates (an inventory).
"""

from __future__ import annotations

import bisect
import datetime
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from scanner.config import Severity
from scanner.detectors.base import Candidate
from scanner.formats.base import Region
from scanner.keys.base import Key, KeyKind, KnownKey

KnownLookup = Callable[[str], KnownKey | None]


@dataclass(frozen=True)
class KnownKeyRef:
    id: str
    source: str


@dataclass(frozen=True)
class Suppression:
    """A baseline entry that matched a finding (see scanner.baseline).

    active: True when it suppresses the finding; False when it has expired, so
    the finding counts again and the report says which entry lapsed.
    """

    reason: str
    expires: datetime.date | None
    active: bool


@dataclass(frozen=True)
class Finding:
    """One key at one place.  Holds no key material, only where and what.

    suppression: the baseline entry for its fingerprint, if any; an active one
    keeps the finding in the report but out of the gate.
    """

    path: str
    format: str
    offset: int
    length: int
    address: int | None
    region: str | None
    detector: str
    module: str | None
    encoding: str
    kind: KeyKind
    algorithm: str | None
    bits: int | None
    curve: str | None
    fingerprint: str | None
    known_key: KnownKeyRef | None
    severity: Severity
    suppression: Suppression | None = None

    @property
    def suppressed(self) -> bool:
        return self.suppression is not None and self.suppression.active


@dataclass(frozen=True)
class ProvenCandidate:
    """A candidate that passed the prover, with the key it proved."""

    candidate: Candidate
    key: Key


def severity_of(key: Key, module: str | None, known: KnownKey | None) -> Severity:
    if key.kind in (KeyKind.PUBLIC, KeyKind.CERTIFICATE):
        return Severity.INFO
    if known is not None:
        return Severity.CRITICAL
    if module is not None:
        return Severity.LOW
    if key.kind in (KeyKind.ENCRYPTED, KeyKind.KEYSTORE):
        return Severity.MEDIUM
    return Severity.HIGH


class RegionMap:
    """Finds the region holding a file offset (regions may not cover the whole file)."""

    def __init__(self, regions: Sequence[Region]) -> None:
        self._regions = sorted(regions, key=lambda r: r.file_offset)
        self._starts = [r.file_offset for r in self._regions]

    def region_at(self, offset: int) -> Region | None:
        index = bisect.bisect_right(self._starts, offset) - 1
        if index < 0:
            return None
        region = self._regions[index]
        return region if offset < region.file_end else None


def region_label(region: Region | None) -> str | None:
    """What a finding calls its region: the reader's name (module, mapped file, thread
    stack), else "anonymous rw-" for memory whose protection the dump gives (an ELF core's
    anonymous PT_LOAD); None where neither is known (raw files, physical memory)."""
    if region is None:
        return None
    if region.name:
        return region.name
    return f"anonymous {region.permissions}" if region.permissions else None


def _identity(proven: ProvenCandidate) -> str | KeyKind:
    """Same fingerprint, same key, whatever the structure (a certificate and the
    SubjectPublicKeyInfo inside it); keys without a fingerprint group by kind,
    except that an encrypted key inside a keystore is that store's own key bag,
    which the keystore finding already reports."""
    if proven.key.fingerprint:
        return proven.key.fingerprint
    return KeyKind.KEYSTORE if proven.key.kind is KeyKind.ENCRYPTED else proven.key.kind


def dedupe(proven: Iterable[ProvenCandidate]) -> list[ProvenCandidate]:
    """One finding per key per place.

    Two candidates of the same key whose byte ranges overlap are one finding
    (two rules firing on one structure, a base64 OpenSSH blob inside its PEM
    block, the public key inside its certificate); the outermost (earliest,
    then longest) is kept.  The same key at two
    separate places stays two findings.
    """
    ordered = sorted(proven, key=lambda p: (p.candidate.offset, -p.candidate.length))
    kept: list[ProvenCandidate] = []
    reach: dict[str | KeyKind, int] = {}
    for item in ordered:
        identity = _identity(item)
        end = item.candidate.offset + item.candidate.length
        if item.candidate.offset < reach.get(identity, -1):
            reach[identity] = max(reach[identity], end)
            continue
        reach[identity] = end
        kept.append(item)
    return kept


def build_findings(
    path: str,
    format_name: str,
    regions: Sequence[Region],
    proven: Iterable[ProvenCandidate],
    known_lookup: KnownLookup = lambda fingerprint: None,
) -> list[Finding]:
    region_map = RegionMap(regions)
    findings = []
    for item in dedupe(proven):
        region = region_map.region_at(item.candidate.offset)
        findings.append(_finding(path, format_name, region, item, known_lookup))
    return findings


def _finding(
    path: str,
    format_name: str,
    region: Region | None,
    item: ProvenCandidate,
    known_lookup: KnownLookup,
) -> Finding:
    candidate, key = item.candidate, item.key
    known = known_lookup(key.fingerprint) if key.fingerprint else None
    module = region.module if region else None
    address = None
    if region is not None and region.address is not None:
        address = region.address + (candidate.offset - region.file_offset)
    return Finding(
        path=path,
        format=format_name,
        offset=candidate.offset,
        length=candidate.length,
        address=address,
        region=region_label(region),
        detector=candidate.detector,
        module=module,
        encoding=candidate.encoding,
        kind=key.kind,
        algorithm=key.algorithm,
        bits=key.bits,
        curve=key.curve,
        fingerprint=key.fingerprint,
        known_key=KnownKeyRef(known.id, known.source) if known else None,
        severity=severity_of(key, module, known),
    )
