"""Baselines: fingerprints of keys that are meant to be in dumps (test keys), accepted.

A baseline file (JSON, version 1) holds one entry per accepted key::

    {"version": 1, "entries": [
        {"fingerprint": "sha256:...", "reason": "openssl speed test key",
         "expires": "2027-06-30", "created": "2026-11-28",
         "algorithm": "RSA", "bits": 2048}]}

It never holds key material: a fingerprint is a hash of the public key.  With
--baseline, findings whose fingerprint has an entry are marked suppressed: they
stay in the report with the entry's reason, and the gate ignores them.  An entry
past its expiry date (the day after `expires`, in UTC) suppresses nothing: the
finding is reported and gated as if no entry existed, and carries the expired
entry so the report says why it came back.

A finding without a fingerprint (an encrypted key whose public half is not
stored) cannot be baselined: nothing identifies it across dumps.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from scanner.atomic import atomic_text
from scanner.errors import ConfigError
from scanner.findings import Finding, Suppression

BASELINE_VERSION = 1
MAX_BASELINE_BYTES = 16 * 1024 * 1024
MAX_REASON_CHARS = 1000


@dataclass(frozen=True)
class BaselineEntry:
    fingerprint: str
    reason: str
    expires: datetime.date | None = None
    created: datetime.date | None = None
    algorithm: str | None = None
    bits: int | None = None

    def expired(self, today: datetime.date) -> bool:
        return self.expires is not None and today > self.expires


@dataclass(frozen=True)
class Baseline:
    entries: Mapping[str, BaselineEntry]

    def suppression_for(self, finding: Finding, today: datetime.date) -> Suppression | None:
        entry = self.entries.get(finding.fingerprint or "")
        if entry is None:
            return None
        return Suppression(entry.reason, entry.expires, not entry.expired(today))


def apply_baseline(
    findings: Iterable[Finding], baseline: Baseline, today: datetime.date
) -> tuple[Finding, ...]:
    return tuple(
        dataclasses.replace(finding, suppression=baseline.suppression_for(finding, today))
        for finding in findings
    )


def today_utc() -> datetime.date:
    return datetime.datetime.now(datetime.UTC).date()


def load_baseline(path: Path) -> Baseline:
    """Read a baseline file; ConfigError naming the file for anything unusable."""
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_BASELINE_BYTES + 1)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read baseline: {error.strerror}") from None
    if len(raw) > MAX_BASELINE_BYTES:
        raise ConfigError(f"{path}: baseline is larger than {MAX_BASELINE_BYTES} bytes")
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: baseline is not JSON ({type(error).__name__})") from None
    if not isinstance(document, dict) or document.get("version") != BASELINE_VERSION:
        raise ConfigError(f"{path}: not a dumpguard baseline (version {BASELINE_VERSION})")
    entries = document.get("entries")
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: baseline has no list of entries")
    loaded = [_entry(path, index, item) for index, item in enumerate(entries, 1)]
    return Baseline({entry.fingerprint: entry for entry in loaded})


def _entry(path: Path, index: int, item: object) -> BaselineEntry:
    where = f"{path}: entry {index}"
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: not an object")
    fingerprint, reason = item.get("fingerprint"), item.get("reason")
    if not isinstance(fingerprint, str) or not _is_fingerprint(fingerprint):
        raise ConfigError(f"{where}: fingerprint must be 'sha256:' and 64 hex digits")
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(f"{where}: every entry needs a reason")
    bits = item.get("bits")
    algorithm = item.get("algorithm")
    return BaselineEntry(
        fingerprint=fingerprint,
        reason=reason,
        expires=_date(where, "expires", item.get("expires")),
        created=_date(where, "created", item.get("created")),
        algorithm=algorithm if isinstance(algorithm, str) else None,
        bits=bits if isinstance(bits, int) else None,
    )


def _is_fingerprint(text: str) -> bool:
    digest = text.removeprefix("sha256:")
    return (
        text.startswith("sha256:")
        and len(digest) == 64
        and all(c in "0123456789abcdef" for c in digest)
    )


def _date(where: str, name: str, value: object) -> datetime.date | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {name} must be a date YYYY-MM-DD")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{where}: {name} {value!r} is not a date YYYY-MM-DD") from None


def baseline_entries(
    findings: Iterable[Finding],
    reason: str,
    expires: datetime.date | None,
    created: datetime.date,
) -> list[BaselineEntry]:
    """One entry per distinct fingerprint, in the order first found."""
    if not reason.strip() or len(reason) > MAX_REASON_CHARS:
        raise ConfigError(f"a baseline reason must be 1 to {MAX_REASON_CHARS} characters")
    entries: dict[str, BaselineEntry] = {}
    for finding in findings:
        if finding.fingerprint and finding.fingerprint not in entries:
            entries[finding.fingerprint] = BaselineEntry(
                finding.fingerprint, reason, expires, created, finding.algorithm, finding.bits
            )
    return list(entries.values())


def write_baseline(path: Path, entries: Iterable[BaselineEntry]) -> None:
    """Write atomically (temp file beside it, fsync, rename): never a half-written baseline."""
    document = {
        "version": BASELINE_VERSION,
        "entries": [_entry_record(entry) for entry in entries],
    }
    with atomic_text(path, "baseline") as stream:
        json.dump(document, stream, indent=2)
        stream.write("\n")


def _entry_record(entry: BaselineEntry) -> dict[str, object]:
    return {
        "fingerprint": entry.fingerprint,
        "reason": entry.reason,
        "expires": entry.expires.isoformat() if entry.expires else None,
        "created": entry.created.isoformat() if entry.created else None,
        "algorithm": entry.algorithm,
        "bits": entry.bits,
    }
