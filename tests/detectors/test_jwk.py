"""JWK and JWKS JSON (RFC 7517, 7518, 8037): rules/jwk.yar and jwk.py.

Keys come from two writers: `cryptography` keys written out by the small JWK
writer below (RFC 7518 6.2 and 6.3, RFC 8037 2), and node's own
`KeyObject.export({format: 'jwk'})`.  The expected fingerprint is the SHA-256
of the SubjectPublicKeyInfo each tool writes for the key, not anything the code
under test computes.  Payloads are compared by SHA-256 only.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import random
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.config import EngineName
from scanner.detectors.base import Candidate, Window
from scanner.detectors.engines import Engine, build_engine
from scanner.detectors.jwk import JwkParser
from scanner.errors import KeyProofError
from scanner.keys.base import KeyKind, PayloadKind
from scanner.keys.prove import prove
from tests.clirun import dumpguard

REPO = Path(__file__).resolve().parents[2]
RULE_FILE = REPO / "rules" / "jwk.yar"
PARSER = JwkParser()
ENGINE_NAMES = [EngineName.YARA_X, EngineName.YARA_PYTHON]
WINDOW_START = 0x3_0000_0001

Jwk = dict[str, Any]


@dataclass(frozen=True)
class JwkSample:
    """A private JWK, its public half, and the fingerprint the writer's tool gives."""

    name: str
    private: Jwk = field(repr=False)
    public: Jwk
    fingerprint: str


def spki_fingerprint(spki_der: bytes) -> str:
    return "sha256:" + hashlib.sha256(spki_der).hexdigest()


# --- the small JWK writer (cryptography keys) ---------------------------------------------


def b64url(data: bytes) -> str:
    """RFC 7515 2: base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_int(value: int, size: int | None = None) -> str:
    """RFC 7518 6.3.1: big-endian, minimal octets; EC values at full size (6.2.1.2)."""
    size = size if size is not None else max(1, (value.bit_length() + 7) // 8)
    return b64url(value.to_bytes(size, "big"))


EC_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
OKP_TYPES: dict[type, str] = {
    ed25519.Ed25519PrivateKey: "Ed25519",
    x25519.X25519PrivateKey: "X25519",
    ed448.Ed448PrivateKey: "Ed448",
    x448.X448PrivateKey: "X448",
}


def jwk_of(key: PrivateKeyTypes) -> tuple[Jwk, Jwk]:
    """(private JWK, public JWK) of a cryptography key."""
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.private_numbers()
        public: Jwk = {
            "kty": "RSA",
            "n": b64url_int(numbers.public_numbers.n),
            "e": b64url_int(numbers.public_numbers.e),
        }
        values = (numbers.d, numbers.p, numbers.q, numbers.dmp1, numbers.dmq1, numbers.iqmp)
        names = ("d", "p", "q", "dp", "dq", "qi")
        return public | {name: b64url_int(v) for name, v in zip(names, values, strict=True)}, public
    if isinstance(key, ec.EllipticCurvePrivateKey):
        size = (key.curve.key_size + 7) // 8
        point = key.public_key().public_numbers()
        crv = EC_CURVE_NAMES.get(key.curve.name, key.curve.name)
        public = {"kty": "EC", "crv": crv, "x": b64url_int(point.x, size)}
        public["y"] = b64url_int(point.y, size)
        return public | {"d": b64url_int(key.private_numbers().private_value, size)}, public
    return _okp_jwk(key)


def _okp_jwk(key: PrivateKeyTypes) -> tuple[Jwk, Jwk]:
    """RFC 8037 2: crv, x (the raw public key) and d (the raw private key)."""
    okp_types = (ed25519.Ed25519PrivateKey, x25519.X25519PrivateKey)
    okp_types += (ed448.Ed448PrivateKey, x448.X448PrivateKey)  # type: ignore[assignment]
    assert isinstance(key, okp_types)
    crv = next(name for cls, name in OKP_TYPES.items() if isinstance(key, cls))
    raw = serialization.Encoding.Raw
    public_bytes = key.public_key().public_bytes(raw, serialization.PublicFormat.Raw)
    no_encryption = serialization.NoEncryption()
    private_bytes = key.private_bytes(raw, serialization.PrivateFormat.Raw, no_encryption)
    public = {"kty": "OKP", "crv": crv, "x": b64url(public_bytes)}
    return public | {"d": b64url(private_bytes)}, public


def _spki_of(key: PrivateKeyTypes) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def cryptography_samples() -> list[JwkSample]:
    keys: dict[str, PrivateKeyTypes] = {
        "rsa2048": rsa.generate_private_key(65537, 2048),
        "p256": ec.generate_private_key(ec.SECP256R1()),
        "p384": ec.generate_private_key(ec.SECP384R1()),
        "p521": ec.generate_private_key(ec.SECP521R1()),
        "k256": ec.generate_private_key(ec.SECP256K1()),
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
        "x25519": x25519.X25519PrivateKey.generate(),
        "ed448": ed448.Ed448PrivateKey.generate(),
        "x448": x448.X448PrivateKey.generate(),
    }
    samples = []
    for name, key in keys.items():
        private, public = jwk_of(key)
        samples.append(
            JwkSample(f"crypto-{name}", private, public, spki_fingerprint(_spki_of(key)))
        )
    return samples


NODE_SCRIPT = """
const crypto = require('crypto');
const specs = [['rsa', {modulusLength: 2048}], ['ec', {namedCurve: 'P-256'}],
  ['ec', {namedCurve: 'P-384'}], ['ec', {namedCurve: 'P-521'}],
  ['ec', {namedCurve: 'secp256k1'}], ['ed25519', {}], ['x25519', {}], ['ed448', {}], ['x448', {}]];
console.log(JSON.stringify(specs.map(([type, options]) => {
  const pair = crypto.generateKeyPairSync(type, options);
  return {name: type + (options.namedCurve || ''),
          private: pair.privateKey.export({format: 'jwk'}),
          public: pair.publicKey.export({format: 'jwk'}),
          spki: pair.publicKey.export({format: 'der', type: 'spki'}).toString('base64')};
})));
"""


@functools.cache
def node_samples() -> tuple[JwkSample, ...]:
    if shutil.which("node") is None:
        return ()
    out = subprocess.run(["node", "-e", NODE_SCRIPT], capture_output=True, check=True).stdout
    return tuple(
        JwkSample(
            f"node-{item['name']}",
            item["private"],
            item["public"],
            spki_fingerprint(base64.b64decode(item["spki"])),
        )
        for item in json.loads(out)
    )


@functools.cache
def all_samples() -> tuple[JwkSample, ...]:
    return (*cryptography_samples(), *node_samples())


def sample_names() -> list[str]:
    return [sample.name for sample in all_samples()]


def sample(name: str) -> JwkSample:
    return next(s for s in all_samples() if s.name == name)


# --- text forms -----------------------------------------------------------------------------


# Members that come first in no writer's and no sorted order (see rules/jwk.yar).
NEVER_FIRST = frozenset({"n", "x", "y", "p", "q", "dp", "dq", "qi"})


def _shuffled(jwk: Jwk) -> Jwk:
    items = list(jwk.items())
    random.Random(json.dumps(jwk)).shuffle(items)
    return dict(items)


def _escaped(text: str) -> str:
    """The object inside a JSON string: a log line's {"msg": "...{\\"kty\\"..."}."""
    return json.dumps({"msg": "loaded key " + text})


# form -> (JWK -> stored text, expected encoding without the UTF-16LE suffix)
FORMS: dict[str, tuple[Callable[[Jwk], str], str]] = {
    "compact": (lambda j: json.dumps(j, separators=(",", ":")), "json"),
    "pretty": (lambda j: json.dumps(j, indent=2), "json"),
    "sorted": (lambda j: json.dumps(j, sort_keys=True), "json"),
    "shuffled": (lambda j: json.dumps(_shuffled(j)), "json"),
    "escaped": (lambda j: _escaped(json.dumps(j)), "json-escaped"),
    "escaped-pretty": (lambda j: _escaped(json.dumps(j, indent=4)), "json-escaped"),
}


@dataclass(frozen=True)
class Planted:
    stored: bytes = field(repr=False)
    begin: int
    length: int
    encoding: str


def plant(jwk: Jwk, form: str, utf16: bool) -> Planted:
    """The form's bytes and where the JWK object in them starts and ends."""
    to_text, encoding = FORMS[form]
    text = to_text(jwk)
    begin, end = text.index("{", 1 if form.startswith("escaped") else 0), text.rindex("}")
    if form.startswith("escaped"):
        end = text.rindex("}", 0, end)  # the log line's own object closes last
    width = 2 if utf16 else 1
    stored = text.encode("utf-16le" if utf16 else "utf-8")
    suffix = "-utf-16le" if utf16 else ""
    return Planted(stored, begin * width, (end + 1 - begin) * width, encoding + suffix)


def parse_at(data: bytes, position: int) -> list[Candidate]:
    return list(PARSER.parse(Window(data, WINDOW_START, WINDOW_START + len(data)), position))


def proven(candidate: Candidate) -> tuple[KeyKind, str | None]:
    key = prove(candidate.payload)
    return key.kind, key.fingerprint


@pytest.fixture(scope="module")
def engines() -> dict[EngineName, Engine]:
    return {name: build_engine(name, [RULE_FILE]) for name in ENGINE_NAMES}


def anchors(engines: dict[EngineName, Engine], data: bytes) -> set[int]:
    found = {name: {m.offset for m in e.scan(data).matches} for name, e in engines.items()}
    assert found[EngineName.YARA_X] == found[EngineName.YARA_PYTHON]
    return found[EngineName.YARA_X]


def parse_anchors(engines: dict[EngineName, Engine], data: bytes) -> list[Candidate]:
    window = Window(data, WINDOW_START, WINDOW_START + len(data))
    return [c for offset in sorted(anchors(engines, data)) for c in PARSER.parse(window, offset)]


# --- every key in every form ------------------------------------------------------------------


def test_samples_cover_every_key_type_from_both_writers() -> None:
    kinds = {(s.private["kty"], s.private.get("crv")) for s in all_samples()}
    assert kinds >= {
        ("RSA", None),
        *(("EC", crv) for crv in ("P-256", "P-384", "P-521", "secp256k1")),
        *(("OKP", crv) for crv in ("Ed25519", "X25519", "Ed448", "X448")),
    }
    if shutil.which("node"):
        assert len(node_samples()) == 9


@pytest.mark.parametrize("utf16", [False, True])
@pytest.mark.parametrize("form", list(FORMS))
def test_private_and_public_jwks_are_found_and_proven(
    engines: dict[EngineName, Engine], form: str, utf16: bool
) -> None:
    """All keys of both writers in one buffer: exactly one candidate per planted object."""
    data = bytearray()
    expected = []
    rng = random.Random(f"{form}{utf16}")
    for item in all_samples():
        for jwk, kind in ((item.private, KeyKind.PRIVATE), (item.public, KeyKind.PUBLIC)):
            if form == "shuffled" and next(iter(_shuffled(jwk))) in NEVER_FIRST:
                continue  # rules/jwk.yar leaves these first members out (hash-map order only)
            data += rng.randbytes(2 * rng.randrange(50, 300) + 1)
            planted = plant(jwk, form, utf16)
            expected.append((WINDOW_START + len(data) + planted.begin, planted, kind, item))
            data += planted.stored
    candidates = parse_anchors(engines, bytes(data))
    assert [c.offset for c in candidates] == [offset for offset, *_ in expected]
    for candidate, (_, planted, kind, item) in zip(candidates, expected, strict=True):
        assert (candidate.detector, candidate.encoding) == ("jwk", planted.encoding)
        assert candidate.length == planted.length
        assert proven(candidate) == (kind, item.fingerprint), item.name


def test_payloads_are_the_canonical_der_kinds() -> None:
    kinds = {
        item.name: parse_at(json.dumps(item.private).encode(), 0)[0].payload.kind
        for item in cryptography_samples()
    }
    assert kinds["crypto-rsa2048"] is PayloadKind.PKCS1_PRIVATE
    assert kinds["crypto-p521"] is kinds["crypto-k256"] is PayloadKind.SEC1_PRIVATE
    assert kinds["crypto-ed448"] is kinds["crypto-x25519"] is PayloadKind.PKCS8_PRIVATE


def test_jwks_yields_each_key(engines: dict[EngineName, Engine]) -> None:
    items = all_samples()
    jwks = {"keys": [item.private for item in items] + [items[0].public]}
    for text in (json.dumps(jwks, indent=2), _escaped(json.dumps(jwks))):
        candidates = parse_anchors(engines, text.encode())
        assert [proven(c) for c in candidates] == [
            *((KeyKind.PRIVATE, item.fingerprint) for item in items),
            (KeyKind.PUBLIC, items[0].fingerprint),
        ]


def test_rsa_jwk_with_d_alone_is_proven() -> None:
    """RFC 7518 6.3.2: p, q, dp, dq, qi are optional; the parser recovers p and q."""
    for item in (sample("crypto-rsa2048"), *node_samples()[:1]):
        bare = {k: v for k, v in item.private.items() if k not in ("p", "q", "dp", "dq", "qi")}
        [candidate] = parse_at(json.dumps(bare).encode(), 0)
        assert proven(candidate) == (KeyKind.PRIVATE, item.fingerprint)


# --- what must give nothing ------------------------------------------------------------------


def _broken_variants(jwk: Jwk) -> Iterable[tuple[str, Jwk]]:
    yield "symmetric", {"kty": "oct", "k": "c2VjcmV0"}
    yield "unknown kty", jwk | {"kty": "DSA"}
    yield "d not base64url", jwk | {"d": jwk["d"][:-2] + "+/"}
    yield "d not a string", jwk | {"d": 12345}
    yield "d one character short", jwk | {"d": jwk["d"][:-1]}
    if jwk["kty"] == "EC":
        yield "unknown curve", jwk | {"crv": "P-192"}
        yield "x short", jwk | {"x": jwk["x"][:-3]}
        yield "y missing", {k: v for k, v in jwk.items() if k != "y"}
    if jwk["kty"] == "OKP":
        yield "x missing", {k: v for k, v in jwk.items() if k != "x"}
        yield "Ed25519 key named Ed448", jwk | {"crv": "Ed448"}
    if jwk["kty"] == "RSA":
        yield "some CRT members only", {k: v for k, v in jwk.items() if k != "qi"}
        yield "d of another key", jwk | {"d": sample("crypto-rsa2048").private["d"]}
        yield "multi-prime oth", jwk | {"oth": [{"r": "AQ", "d": "AQ", "t": "AQ"}]}


@pytest.mark.parametrize("name", ["crypto-p256", "crypto-ed25519", "node-rsa"])
def test_broken_jwks_give_no_proven_key(name: str) -> None:
    if name.startswith("node") and not node_samples():
        pytest.skip("node is not installed")
    item = sample(name)
    for _, jwk in _broken_variants(item.private):
        for candidate in parse_at(json.dumps(jwk).encode() + b"\x00", 0):
            with pytest.raises(KeyProofError):
                prove(candidate.payload)


def test_object_cut_anywhere_gives_nothing() -> None:
    text = json.dumps(sample("crypto-p384").private).encode()
    for cut in range(1, len(text)):
        assert parse_at(text[:cut] + b"\n\x00" + text[:cut], 0) == [], cut


def test_nested_object_and_brace_in_a_member_give_nothing() -> None:
    jwk = sample("crypto-ed25519").private
    assert parse_at(json.dumps(jwk | {"kid": "a}b"}).encode(), 0) == []
    assert parse_at(json.dumps({"kty": "OKP", "meta": {"a": 1}, **jwk}).encode(), 0) == []


def test_random_bytes_and_zero_pages_give_no_anchor(engines: dict[EngineName, Engine]) -> None:
    assert anchors(engines, os.urandom(8 << 20) + bytes(8 << 20)) == set()


def test_jwt_headers_and_json_logs_give_nothing(engines: dict[EngineName, Engine]) -> None:
    lines = [
        '{"alg":"RS256","typ":"JWT","kid":"key-1"}',
        '{"e":"AQAB","kty":"RSA"}',
        '{"e":"AQAB","n":"x","kty":"RSA"}',
        json.dumps({"msg": json.dumps({"kid": "a", "use": "sig"})}),
    ]
    data = "\n".join(lines).encode()
    assert len(anchors(engines, data)) >= 4
    assert parse_anchors(engines, data) == []


@settings(max_examples=300, deadline=None)
@given(
    head=st.sampled_from(['{"kty":"RSA",', '{"kty":"EC","crv":"P-256",', '{\\"kty\\":\\"OKP\\",']),
    tail=st.text(alphabet='{}[]",:\\ nAQ_-=0123456789abcdefdkxytyEC', max_size=400),
    utf16=st.booleans(),
)
def test_random_json_after_an_opening_never_raises(head: str, tail: str, utf16: bool) -> None:
    text = (head + tail).encode("utf-16le" if utf16 else "utf-8")
    for candidate in parse_at(text, 0):
        assert candidate.offset == WINDOW_START
        assert 0 < candidate.length <= JwkParser.max_length


def test_dense_anchors_cost_no_more_than_their_distance() -> None:
    unit = b'{"kty":"RSA","n":"' + b"A" * 40
    data = unit * 50_000
    window = Window(data, 0, len(data))
    started = time.monotonic()
    assert [c for p in range(0, len(data), len(unit)) for c in PARSER.parse(window, p)] == []
    assert time.monotonic() - started < 5.0


# --- end to end -------------------------------------------------------------------------------


def test_cli_finds_jwks_in_every_form_with_their_fingerprints(tmp_path: Path) -> None:
    items = node_samples() or tuple(cryptography_samples())
    rsa_item, ec_item = items[0], items[1]
    log_line = _escaped(json.dumps(rsa_item.private)).encode()
    (tmp_path / "app.log").write_bytes(b"2026-01-01 INFO " + log_line + b"\n")
    wide = json.dumps({"keys": [ec_item.private]}).encode("utf-16le")
    (tmp_path / "heap.bin").write_bytes(os.urandom(301) + wide + bytes(64))
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [ec_item.public]}))
    run = dumpguard("scan", tmp_path, "--format", "json")
    assert run.code == 1, run.stderr
    found = sorted(
        (Path(f["path"]).name, f["detector"], f["encoding"], f["kind"], f["fingerprint"])
        for f in json.loads(run.stdout)["findings"]
    )
    assert found == [
        ("app.log", "jwk", "json-escaped", "private-key", rsa_item.fingerprint),
        ("heap.bin", "jwk", "json-utf-16le", "private-key", ec_item.fingerprint),
        ("jwks.json", "jwk", "json", "public-key", ec_item.fingerprint),
    ]
    assert rsa_item.private["d"] not in run.stdout + run.stderr


def test_non_ascii_kid_in_utf8_and_utf16le() -> None:
    item = sample("crypto-p256")
    text = json.dumps(item.private | {"kid": "clé-été"}, ensure_ascii=False)
    for stored in (text.encode("utf-8"), text.encode("utf-16le")):
        [candidate] = parse_at(stored, 0)
        assert proven(candidate) == (KeyKind.PRIVATE, item.fingerprint)
