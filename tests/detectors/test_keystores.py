"""Keystores (rules/keystore.yar, detectors/keystore_*.py, keys/keystore.py) on real stores.

The stores are made by `keytool` (PKCS12, JKS, JCEKS with a secret-key entry)
and `openssl pkcs12 -export` (PBES2 and -legacy), with the empty, a default and
a custom password (tests/keystore_samples.py).  Expected fingerprints come from
the certificates the tools export.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.config import EngineName, ScanConfig, Severity
from scanner.detectors import PARSERS
from scanner.detectors.base import Candidate, Window
from scanner.detectors.engines import build_engine
from scanner.detectors.engines.base import rule_files_in
from scanner.detectors.scan import ChunkScanner
from scanner.errors import KeyProofError
from scanner.findings import ProvenCandidate, dedupe
from scanner.formats.base import Region
from scanner.keys.base import Key, KeyKind, Payload, PayloadKind
from scanner.keys.keystore import DEFAULT_PASSWORDS, candidate_passwords, open_keystore
from scanner.keys.prove import prove
from scanner.pipeline import BUILTIN_RULES, scan
from tests.keystore_samples import (
    CUSTOM_PASSWORD,
    StoreSample,
    needs_tools,
    spki_fingerprint,
    store_samples,
)

pytestmark = pytest.mark.skipif(not needs_tools, reason="keytool and openssl are needed")

RULES = [BUILTIN_RULES / "keystore.yar"]
KEYSTORE_PARSERS = ("keystore-pkcs12", "keystore-jks", "keystore-jceks")


def sample_ids() -> list[str]:
    return [
        "keytool-pkcs12-changeit",
        "keytool-jks-custom",
        "keytool-jceks-changeit-with-secret-key",
        "openssl-pkcs12-empty",
        "openssl-pkcs12-legacy-custom",
    ]


def sample(name: str) -> StoreSample:
    return next(s for s in store_samples() if s.name == name)


def parse_at(data: bytes, position: int, start: int = 0) -> list[Candidate]:
    window = Window(data, start, start + len(data))
    return [c for name in KEYSTORE_PARSERS for c in PARSERS[name].parse(window, position)]


@pytest.mark.parametrize("name", sample_ids())
def test_parser_cuts_out_exactly_the_store(name: str) -> None:
    store = sample(name)
    data = os.urandom(1001) + store.data + os.urandom(333)
    (candidate,) = parse_at(data, 1001, start=5000)
    assert (candidate.detector, candidate.offset, candidate.length) == (
        store.detector,
        6001,
        len(store.data),
    )
    assert candidate.payload == Payload(store.kind, store.data)
    assert prove(candidate.payload) == Key(KeyKind.KEYSTORE, None, None, None, None)


@pytest.mark.parametrize("name", sample_ids())
def test_store_opens_and_every_key_is_proven(name: str) -> None:
    store = sample(name)
    opened = open_keystore(Payload(store.kind, store.data), [CUSTOM_PASSWORD])
    assert opened.encoding == store.encoding
    assert {key.encoding for key in opened.private_keys} == {store.encoding}
    proven = [prove(key.payload) for key in opened.private_keys]
    assert {key.kind for key in proven} == {KeyKind.PRIVATE}
    assert {key.fingerprint for key in proven} == store.fingerprints


@pytest.mark.parametrize("name", ["keytool-jks-custom", "openssl-pkcs12-legacy-custom"])
def test_wrong_passwords_leave_the_store_closed(name: str) -> None:
    store = sample(name)
    assert store.needs_password_file
    opened = open_keystore(Payload(store.kind, store.data), ["wrong", CUSTOM_PASSWORD[:-1]])
    assert (opened.encoding, opened.private_keys) == (None, ())


def test_labels_never_hold_a_users_password() -> None:
    labels = [p.label for p in candidate_passwords([CUSTOM_PASSWORD, "changeit"])]
    assert "password-file" in labels
    assert not any(CUSTOM_PASSWORD in label for label in labels)
    assert labels.count("default-password:changeit") == 1
    assert CUSTOM_PASSWORD not in repr(candidate_passwords([CUSTOM_PASSWORD]))
    assert CUSTOM_PASSWORD not in repr(ScanConfig(("x",), keystore_passwords=(CUSTOM_PASSWORD,)))
    assert "changeit" in DEFAULT_PASSWORDS


@pytest.mark.parametrize("engine_name", list(EngineName))
def test_both_engines_anchor_every_store(engine_name: EngineName, tmp_path: Path) -> None:
    data = bytearray(os.urandom(777))
    offsets = {}
    for store in store_samples():
        data += os.urandom(131)
        offsets[len(data)] = store
        data += store.data
    engine = build_engine(engine_name, RULES)
    anchors = {(m.offset, m.parser) for m in engine.scan(bytes(data)).matches}
    assert {(offset, store.detector) for offset, store in offsets.items()} <= anchors


@pytest.mark.parametrize("engine_name", list(EngineName))
def test_a_store_across_every_chunk_edge_is_found_once(
    engine_name: EngineName, tmp_path: Path
) -> None:
    """The overlap contract (scanner/detectors/base.py): chunks far smaller than the store."""
    store = sample("keytool-jks-custom")
    engine = build_engine(engine_name, rule_files_in([BUILTIN_RULES]))
    chunk = 1024
    scanner = ChunkScanner(engine, PARSERS, chunk_size=chunk, jobs=2)
    for offset in (chunk - 1, 3 * chunk - 700, 2 * chunk + 5):
        path = tmp_path / "image.raw"
        size = offset + len(store.data) + 2 * chunk
        path.write_bytes(bytes(offset) + store.data + bytes(size - offset - len(store.data)))
        found = [
            (c.offset, c.length)
            for c in scanner.scan_file(path, [Region(0, size)])
            if c.detector == store.detector
        ]
        assert found == [(offset, len(store.data))]


def test_pipeline_reports_store_and_keys_across_a_chunk_edge(tmp_path: Path) -> None:
    store = sample("openssl-pkcs12-legacy-custom")
    path = tmp_path / "heap.raw"
    offset = 4096 - 123
    path.write_bytes(os.urandom(offset) + store.data + os.urandom(5000))
    config = ScanConfig(
        (str(path),), chunk_size=4096, jobs=1, keystore_passwords=(CUSTOM_PASSWORD,)
    )
    findings = scan(config).findings
    stores = [f for f in findings if f.kind is KeyKind.KEYSTORE]
    keys = [f for f in findings if f.kind is KeyKind.PRIVATE]
    assert [(f.offset, f.length, f.severity) for f in stores] == [
        (offset, len(store.data), Severity.MEDIUM)
    ]
    assert {f.fingerprint for f in keys} == store.fingerprints
    assert {(f.offset, f.encoding, f.severity) for f in keys} == {
        (offset, store.encoding, Severity.HIGH)
    }
    # The PBES2/PBE-encrypted key bag inside is the store's own: no separate finding.
    assert not [f for f in findings if f.kind is KeyKind.ENCRYPTED]


def test_truncated_store_gives_no_candidate() -> None:
    for store in store_samples():
        for cut in (len(store.data) - 1, len(store.data) - 21, len(store.data) // 2, 40):
            assert parse_at(store.data[:cut], 0) == [], (store.name, cut)


def test_prover_rejects_trailing_bytes_and_the_wrong_kind() -> None:
    jks = sample("keytool-jks-custom")
    with pytest.raises(KeyProofError):
        prove(Payload(PayloadKind.JKS, jks.data + b"\x00"))
    with pytest.raises(KeyProofError):
        prove(Payload(PayloadKind.JCEKS, jks.data))
    with pytest.raises(KeyProofError):
        prove(Payload(PayloadKind.PKCS12, jks.data))


def test_dedupe_keeps_the_store_and_each_inner_key() -> None:
    store_key = Key(KeyKind.KEYSTORE, None, None, None, None)
    inner = [Key(KeyKind.PRIVATE, "RSA", 2048, None, f"sha256:{i:064x}") for i in (1, 2)]
    encrypted_bag = Key(KeyKind.ENCRYPTED, None, None, None, None)
    payload = Payload(PayloadKind.PKCS12, b"")
    at_store = Candidate("keystore-pkcs12", "pkcs12/empty-password", 100, 3000, payload)
    bag = Candidate("der-encrypted-pkcs8", "der", 180, 1300, payload)
    proven = [
        ProvenCandidate(at_store, store_key),
        *(ProvenCandidate(at_store, key) for key in inner),
        ProvenCandidate(bag, encrypted_bag),
    ]
    kept = dedupe(proven)
    assert [p.key.kind for p in kept].count(KeyKind.KEYSTORE) == 1
    assert {p.key.fingerprint for p in kept if p.key.kind is KeyKind.PRIVATE} == {
        k.fingerprint for k in inner
    }
    assert all(p.key.kind is not KeyKind.ENCRYPTED for p in kept)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=600), magic=st.sampled_from(["pfx", "jks", "jceks"]))
def test_random_bytes_after_a_magic_never_raise(data: bytes, magic: str) -> None:
    prefix = {
        "pfx": bytes.fromhex("3082ffff020103308200ff06092a864886f70d010701"),
        "jks": bytes.fromhex("feedfeed00000002"),
        "jceks": bytes.fromhex("cececece00000002"),
    }[magic]
    blob = prefix + data
    for candidate in parse_at(blob, 0):
        assert candidate.length <= len(blob)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sample_ids()), flips=st.lists(st.integers(0, 1 << 20), max_size=4))
def test_corrupted_stores_never_raise(name: str, flips: list[int]) -> None:
    store = sample(name)
    data = bytearray(store.data)
    for flip in flips:
        data[flip % len(data)] ^= 1 << (flip % 8)
    for candidate in parse_at(bytes(data), 0):
        opened = open_keystore(candidate.payload, [CUSTOM_PASSWORD])
        for key in opened.private_keys:
            assert key.payload.kind is PayloadKind.PKCS8_PRIVATE


def ber_pfx(pfx: bytes) -> bytes:
    """The PFX re-encoded as NSS and older tools write it (X.690 8.1.3.6): the PFX,
    authSafe ContentInfo and its [0] with indefinite lengths.  The MAC covers only
    the OCTET STRING's value, which stays as it is, so OpenSSL must still open it."""
    pfx_content, _ = _split(pfx)
    version, rest = pfx_content[:3], pfx_content[3:]
    auth_safe_content, mac_data = _split(rest)
    oid_end = 2 + auth_safe_content[1]
    oid, explicit = auth_safe_content[:oid_end], auth_safe_content[oid_end:]
    octet_string, _ = _split(explicit)
    eoc = b"\x00\x00"
    auth_safe = b"\x30\x80" + oid + b"\xa0\x80" + octet_string + eoc + eoc
    return b"\x30\x80" + version + auth_safe + mac_data + eoc


def _split(tlv: bytes) -> tuple[bytes, bytes]:
    """(content, bytes after the TLV) of a definite-length DER TLV."""
    first = tlv[1]
    count = first & 0x7F if first & 0x80 else 0
    length = int.from_bytes(tlv[2 : 2 + count], "big") if count else first
    start = 2 + count
    return tlv[start : start + length], tlv[start + length :]


def test_indefinite_length_ber_pfx_is_cut_out_and_opened() -> None:
    store = sample("keytool-pkcs12-changeit")
    ber = ber_pfx(store.data)
    data = os.urandom(99) + ber + os.urandom(50)
    (candidate,) = parse_at(data, 99)
    assert (candidate.offset, candidate.length) == (99, len(ber))
    opened = open_keystore(candidate.payload, [])
    assert opened.encoding == "pkcs12/default-password:changeit"
    assert {prove(k.payload).fingerprint for k in opened.private_keys} == store.fingerprints


def test_a_key_password_other_than_the_store_password_is_labelled_as_such(
    tmp_path: Path,
) -> None:
    """keytool -keypass: the store opens with "changeit", its key only with the user's file."""
    path = tmp_path / "store.jks"
    common = ["-keystore", str(path), "-storetype", "JKS", "-storepass", "changeit"]
    subprocess.run(
        ["keytool", "-genkeypair", *common, "-keypass", CUSTOM_PASSWORD, "-alias", "k",
         "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=k", "-validity", "2"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    certificate = subprocess.run(
        ["keytool", "-exportcert", "-rfc", *common, "-alias", "k"],
        check=True, capture_output=True, timeout=120,
    ).stdout  # fmt: skip
    payload = Payload(PayloadKind.JKS, path.read_bytes())
    assert open_keystore(payload, []).private_keys == ()
    opened = open_keystore(payload, ["nope", CUSTOM_PASSWORD])
    assert opened.encoding == "jks/default-password:changeit"
    (key,) = opened.private_keys
    assert key.encoding == "jks/password-file"
    assert prove(key.payload).fingerprint == spki_fingerprint(certificate)
