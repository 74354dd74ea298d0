"""Findings stage: severity rules, attribution to regions, one finding per key per place."""

from __future__ import annotations

import pytest

from scanner.config import Severity
from scanner.detectors.base import Candidate
from scanner.findings import ProvenCandidate, RegionMap, build_findings, dedupe, severity_of
from scanner.formats.base import Region
from scanner.keys.base import Key, KeyKind, KnownKey, Payload, PayloadKind

RSA = Key(KeyKind.PRIVATE, "RSA", 2048, None, "sha256:" + "ab" * 32)
ENCRYPTED = Key(KeyKind.ENCRYPTED, None, None, None, None)
CERT = Key(KeyKind.CERTIFICATE, "EC", 256, "P-256", "sha256:" + "cd" * 32)
KNOWN = KnownKey("kid-1", "jwks.json", RSA.fingerprint or "", "RSA", 2048)


def proven(offset: int, length: int, key: Key = RSA, detector: str = "pem") -> ProvenCandidate:
    payload = Payload(PayloadKind.PKCS8_PRIVATE, b"")
    return ProvenCandidate(Candidate(detector, "ascii", offset, length, payload), key)


@pytest.mark.parametrize(
    ("key", "module", "known", "expected"),
    [
        (RSA, None, KNOWN, Severity.CRITICAL),
        (RSA, "/usr/bin/openssl", KNOWN, Severity.CRITICAL),
        (RSA, None, None, Severity.HIGH),
        (ENCRYPTED, None, None, Severity.MEDIUM),
        (RSA, "/usr/bin/openssl", None, Severity.LOW),
        (CERT, None, None, Severity.INFO),
        (CERT, None, KNOWN, Severity.INFO),
    ],
)
def test_severity_rules(
    key: Key, module: str | None, known: KnownKey | None, expected: Severity
) -> None:
    assert severity_of(key, module, known) is expected


def test_two_rules_on_one_structure_are_one_finding() -> None:
    kept = dedupe([proven(100, 50, detector="der-pkcs1"), proven(100, 50, detector="der-dsa")])
    assert len(kept) == 1


def test_candidate_inside_another_of_the_same_key_is_merged_into_the_outer() -> None:
    outer, inner = proven(100, 500, detector="pem"), proven(140, 300, detector="openssh")
    assert dedupe([inner, outer]) == [outer]


def test_same_key_at_two_places_is_two_findings() -> None:
    assert len(dedupe([proven(100, 50), proven(4000, 50)])) == 2


def test_different_keys_at_overlapping_places_stay_apart() -> None:
    assert len(dedupe([proven(100, 500), proven(100, 500, key=CERT)])) == 2


def test_public_key_inside_its_certificate_is_the_certificate() -> None:
    public = Key(KeyKind.PUBLIC, "EC", 256, "P-256", CERT.fingerprint)
    cert = proven(100, 600, key=CERT, detector="der-x509")
    assert dedupe([proven(250, 91, key=public, detector="der-spki"), cert]) == [cert]


def test_region_attribution_gives_address_module_and_severity() -> None:
    regions = [
        Region(0x1000, 0x1000, 0x7F0000000000, "rw-", None, None),
        Region(0x2000, 0x1000, 0x555500000000, "r--", "/usr/bin/openssl", "/usr/bin/openssl"),
    ]
    found = build_findings(
        "core",
        "elf-core",
        regions,
        [proven(0x1010, 40), proven(0x2020, 40)],
        lambda fingerprint: None,
    )
    anonymous, in_module = sorted(found, key=lambda f: f.offset)
    assert anonymous.address == 0x7F0000000010
    assert (anonymous.module, anonymous.severity) == (None, Severity.HIGH)
    assert in_module.address == 0x555500000020
    assert (in_module.module, in_module.severity) == ("/usr/bin/openssl", Severity.LOW)


def test_known_key_is_named_in_the_finding() -> None:
    lookup = {KNOWN.fingerprint: KNOWN}.get
    (finding,) = build_findings("f", "raw", [Region(0, 100)], [proven(0, 10)], lookup)
    assert finding.known_key is not None
    assert (finding.known_key.id, finding.severity) == ("kid-1", Severity.CRITICAL)


def test_offsets_outside_every_region_have_no_address() -> None:
    region_map = RegionMap([Region(100, 10, 0x1000)])
    assert region_map.region_at(99) is None
    assert region_map.region_at(110) is None
    assert region_map.region_at(109) == Region(100, 10, 0x1000)
