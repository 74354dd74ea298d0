"""Base64 and base64url DER without PEM armour: rules/base64.yar and base64_der.py.

The keys are tests/keys/der_samples.py's (written by openssl and cryptography).
Each is encoded with Python's base64 module (which the parser does not use) in
every form a config value or a string in memory takes, planted at odd offsets,
found by both engines at its first character, cut out and proven to the
fingerprint `openssl pkey -pubout` gave.  The rule file's strings are derived
here from DER templates, independently of the file, and must match it exactly.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import random
import re
import string
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.config import EngineName
from scanner.detectors.base import Candidate, Window
from scanner.detectors.base64_der import Base64DerParser
from scanner.detectors.engines import Engine, build_engine
from scanner.errors import KeyProofError
from scanner.keys.prove import prove
from tests.clirun import dumpguard
from tests.keyfactory import make_keys
from tests.keys.der_samples import DerSample, der_samples

from .test_pem import digest

REPO = Path(__file__).resolve().parents[2]
RULE_FILE = REPO / "rules" / "base64.yar"
PARSER = Base64DerParser()
ENGINE_NAMES = [EngineName.YARA_X, EngineName.YARA_PYTHON]
# PKCS#1 RSAPublicKey has no base64 rule (see rules/base64.yar: no selective prefix).
SAMPLES = [s for s in der_samples() if not s.name.endswith("-pkcs1-public")]
WINDOW_START = 0x5_0000_0001

# --- the rule's strings, derived from the DER templates ---------------------------

# Template tokens: hex byte, "??" any byte, "<40" below 0x40, ">=80" from 0x80, "(a|b)".
TEMPLATES = {
    "pkcs8_rsa": "30 82 <40 ?? 02 01 (00|01) 30 0D 06 09 2A 86 48 86 F7 0D 01 01 01 05 00 04 82",
    "pkcs8_rsa81": "30 81 >=80 02 01 (00|01) 30 0D 06 09 2A 86 48 86 F7 0D 01 01 01 05 00 04 81",
    "pkcs8_rsapss": "30 82 <40 ?? 02 01 (00|01) 30 <80 06 09 2A 86 48 86 F7 0D 01 01 0A",
    "pkcs8_ec_short": "30 <80 02 01 (00|01) 30 13 06 07 2A 86 48 CE 3D 02 01 06",
    "pkcs8_ec81": "30 81 >=80 02 01 (00|01) 30 (13|10) 06 07 2A 86 48 CE 3D 02 01 06",
    "pkcs8_ec82": "30 82 <40 ?? 02 01 (00|01) 30 (13|10) 06 07 2A 86 48 CE 3D 02 01 06",
    "pkcs8_ed_short": "30 <80 02 01 (00|01) 30 05 06 03 2B 65 (6E|6F|70|71) 04",
    "pkcs8_ed81": "30 81 >=80 02 01 (00|01) 30 05 06 03 2B 65 (6E|6F|70|71) 04",
    "pkcs8_dsa": "30 82 <40 ?? 02 01 (00|01) 30 82 ?? ?? 06 07 2A 86 48 CE 38 04 01",
    "pkcs1_rsa": "30 82 <40 ?? 02 01 00 02 (41|61|81|82)",
    "sec1_short": "30 <80 02 01 01 04 (1F|20|2F|30)",
    "sec1_81": "30 81 >=80 02 01 01 04 (2F|30|41|42)",
    "enc_pkcs5": "30 82 <40 ?? 30 <80 06 09 2A 86 48 86 F7 0D 01 05 (01|03|04|06|0A|0B|0D) 30",
    "enc_pkcs5_81": "30 81 >=80 30 <80 06 09 2A 86 48 86 F7 0D 01 05 (01|03|04|06|0A|0B|0D) 30",
    "enc_pkcs12": "30 82 <40 ?? 30 <80 06 0A 2A 86 48 86 F7 0D 01 0C 01 (01|02|03|04|05|06) 30",
    "enc_pkcs12_81": "30 81 >=80 30 <80 06 0A 2A 86 48 86 F7 0D 01 0C 01 (01|02|03|04|05|06) 30",
    "enc_pkcs12_short": "30 <80 30 <80 06 0A 2A 86 48 86 F7 0D 01 0C 01 (01|02|03|04|05|06) 30",
    "spki_rsa": "30 82 <40 ?? 30 0D 06 09 2A 86 48 86 F7 0D 01 01 01 05 00 03",
    "spki_rsa81": "30 81 >=80 30 0D 06 09 2A 86 48 86 F7 0D 01 01 01 05 00 03",
    "spki_ec_short": "30 <80 30 (13|10) 06 07 2A 86 48 CE 3D 02 01 06",
    "spki_ec81": "30 81 >=80 30 (13|10) 06 07 2A 86 48 CE 3D 02 01 06",
    "spki_ed": "30 <80 30 05 06 03 2B 65 (6E|6F|70|71) 03",
    "spki_dsa": "30 82 <40 ?? 30 82 ?? ?? 06 07 2A 86 48 CE 38 04 01",
    "cert": "30 82 <40 ?? 30 82 ?? ?? A0 03 02 01 (01|02) 02",
    "cert82_81": "30 82 <40 ?? 30 81 >=80 A0 03 02 01 (01|02) 02",
    "cert81": "30 81 >=80 30 81 >=80 A0 03 02 01 (01|02) 02",
}
ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "+/"
URL_TWIN = {"+": "-", "/": "_"}
ANY_CHARACTER = "[A-Za-z0-9+\\/_-]"


def _byte_values(token: str) -> set[int]:
    if token == "??":
        return set(range(256))
    if token.startswith("<"):
        return set(range(int(token[1:], 16)))
    if token.startswith(">="):
        return set(range(int(token[2:], 16), 256))
    return {int(value, 16) for value in token.strip("()").split("|")}


def _character_class(sextets: set[int]) -> str:
    """The regex for one base64 character that may take these 6-bit values."""
    if len(sextets) == 64:
        return ANY_CHARACTER
    characters = [ALPHABET[value] for value in sorted(sextets)]
    if len(characters) == 1 and characters[0] not in URL_TWIN:
        return characters[0]
    plain = [c for c in characters if c not in URL_TWIN]
    ranges = ["".join(group) for group in _runs(plain)]
    body = "".join(r if len(r) < 3 else f"{r[0]}-{r[-1]}" for r in ranges)
    body += "+" if "+" in characters else ""
    body += "\\/_" if "/" in characters else ""
    body += "-" if "+" in characters else ""
    return f"[{body}]"


def _runs(characters: list[str]) -> Iterable[list[str]]:
    """Consecutive alphabet characters within one of A-Z, a-z, 0-9."""
    groups = [string.ascii_uppercase, string.ascii_lowercase, string.digits]

    def key(item: tuple[int, str]) -> tuple[int, int]:
        index, character = item
        group = next(i for i, g in enumerate(groups) if character in g)
        return group, ALPHABET.index(character) - index

    for _, run in itertools.groupby(enumerate(characters), key=key):
        yield [character for _, character in run]


def derive(template: str) -> str:
    """RFC 4648 4: each 3-byte group gives 4 characters of 6 bits; a character's
    class holds every value its bits take over the template's byte choices."""
    tokens = [_byte_values(token) for token in template.split()]
    tokens += [set(range(256))] * (-len(tokens) % 3)
    classes: list[str] = []
    for start in range(0, len(tokens), 3):
        sextets: list[set[int]] = [set(), set(), set(), set()]
        for a, b, c in itertools.product(*tokens[start : start + 3]):
            group = a << 16 | b << 8 | c
            for index in range(4):
                sextets[index].add(group >> (18 - 6 * index) & 63)
        classes += map(_character_class, sextets)
    while classes[-1] == ANY_CHARACTER:  # characters past the template's last fixed bit
        classes.pop()
    return "".join(classes)


def rule_strings() -> dict[str, str]:
    text = RULE_FILE.read_text()
    found = re.findall(r"^\s*\$(\w+) = /(.*)/ ascii wide$", text, flags=re.MULTILINE)
    return {name: regex.replace("\\/", "/") for name, regex in found}


def test_rule_file_lists_exactly_the_derived_strings() -> None:
    derived = {name: derive(template).replace("\\/", "/") for name, template in TEMPLATES.items()}
    assert rule_strings() == derived
    assert derive(TEMPLATES["pkcs8_rsa"]).startswith("MII")
    text = RULE_FILE.read_text()
    for name, template in TEMPLATES.items():
        assert f"// {template}\n        ${name} =" in text


def test_well_known_prefixes_match_their_strings() -> None:
    """Prefixes quoted in the issue and seen in the wild."""
    strings = rule_strings()
    for name, prefix in [
        ("pkcs8_rsa", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
        ("pkcs1_rsa", "MIIEowIBAAKCAQEA"),
        ("sec1_short", "MHcCAQEEIA"),  # the 10th character holds the scalar's first bits
        ("pkcs8_ed_short", "MC4CAQAwBQYDK2VwBCIEI"),
        ("spki_rsa", "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"),
        ("spki_ec_short", "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"),
    ]:
        assert re.match(strings[name], prefix), name


# --- forms, planting, engines -------------------------------------------------------


def _wrapped(text: bytes) -> bytes:
    """A PEM body pasted without its armour: 64 characters a line, CRLF, indented."""
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return b"\r\n    ".join(lines)


# form -> (encode DER, expected encoding, width)
FORMS: dict[str, tuple[Callable[[bytes], bytes], str, int]] = {
    "base64": (base64.b64encode, "base64", 1),
    "base64url-unpadded": (lambda d: base64.urlsafe_b64encode(d).rstrip(b"="), "base64url", 1),
    "wrapped": (lambda d: _wrapped(base64.b64encode(d)), "base64", 1),
    "utf16le": (lambda d: base64.b64encode(d).decode().encode("utf-16le"), "base64-utf-16le", 2),
    "utf16le-url": (
        lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode().encode("utf-16le"),
        "base64url-utf-16le",
        2,
    ),
}


def expected_encoding(sample: DerSample, form: str) -> str:
    """base64url needs "-" or "_", or missing padding, to be told from base64 (base64_der.py)."""
    _, encoding, _ = FORMS[form]
    unpadded_url = "url" in form
    url_characters = any(c in base64.urlsafe_b64encode(sample.der) for c in b"-_")
    if unpadded_url and not url_characters and len(sample.der) % 3 == 0:
        return encoding.replace("base64url", "base64")
    return encoding


@pytest.fixture(scope="module")
def engines() -> dict[EngineName, Engine]:
    return {name: build_engine(name, [RULE_FILE]) for name in ENGINE_NAMES}


def anchors(engines: dict[EngineName, Engine], data: bytes) -> set[int]:
    found = {
        name: {m.offset for m in engine.scan(data).matches} for name, engine in engines.items()
    }
    assert found[EngineName.YARA_X] == found[EngineName.YARA_PYTHON]
    return found[EngineName.YARA_X]


def parse_anchors(data: bytes, offsets: Iterable[int], start: int = 0) -> list[Candidate]:
    window = Window(data, start, start + len(data))
    return [c for offset in sorted(offsets) for c in PARSER.parse(window, offset)]


def planted_buffer(form: str, seed: int) -> tuple[bytes, list[tuple[DerSample, int, int]]]:
    """Every sample in one form, each quoted, after an odd-sized random gap."""
    encode, _, _ = FORMS[form]
    rng = random.Random(seed)
    data = bytearray()
    plants = []
    for sample in SAMPLES:
        data += rng.randbytes(2 * rng.randrange(100, 400) + 1) + b'"'
        stored = encode(sample.der)
        plants.append((sample, len(data), len(stored)))
        data += stored + b'"'
    return bytes(data + rng.randbytes(99)), plants


def _proven_fingerprint(candidate: Candidate) -> str | None:
    try:
        return prove(candidate.payload).fingerprint
    except KeyProofError:
        return "unproven"


@pytest.mark.parametrize("form", list(FORMS))
def test_every_sample_is_found_cut_out_and_proven(
    engines: dict[EngineName, Engine], form: str
) -> None:
    data, plants = planted_buffer(form, seed=len(form))
    candidates = parse_anchors(data, anchors(engines, data), WINDOW_START)
    by_offset = {(c.offset, c.length): c for c in candidates}
    for sample, offset, length in plants:
        candidate = by_offset.get((WINDOW_START + offset, length))
        assert candidate is not None, sample.name
        assert candidate.detector == "base64-der"
        assert candidate.encoding == expected_encoding(sample, form), sample.name
        assert candidate.payload.kind is sample.kind
        assert digest(candidate.payload.data) == digest(sample.der)
        assert _proven_fingerprint(candidate) == sample.fingerprint, sample.name
    # Nested structures (an SEC1 key at a 3-byte boundary inside a PKCS#8 one)
    # fire too; whatever fires proves to a planted key (the findings stage merges them).
    planted = {sample.fingerprint for sample, _, _ in plants}
    assert {_proven_fingerprint(c) for c in candidates} <= planted


def test_random_bytes_zero_pages_and_real_binaries_give_no_candidate(
    engines: dict[EngineName, Engine],
) -> None:
    data = os.urandom(8 << 20) + bytes(8 << 20)
    assert anchors(engines, data) == set()
    import cryptography.hazmat.bindings._rust as rust_binding

    binary = Path(rust_binding.__file__).read_bytes()
    assert parse_anchors(binary, anchors(engines, binary)) == []


# --- what must give nothing ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["rsa2048-pkcs8", "p256-traditional", "ed25519-pkcs8"])
def test_run_cut_short_gives_nothing(name: str) -> None:
    sample = next(s for s in SAMPLES if s.name == name)
    text = base64.b64encode(sample.der)
    significant = -(-len(sample.der) * 4 // 3)  # characters before the padding
    for cut in (*range(8, significant, 3), significant - 1):
        data = text[:cut] + b'"' + os.urandom(64).hex().encode()[:9]
        assert parse_anchors(data, [0]) == [], cut


def test_mixed_alphabets_and_broken_header_give_nothing() -> None:
    sample = next(s for s in SAMPLES if s.name == "rsa2048-pkcs8")
    text = base64.b64encode(sample.der)
    assert len(parse_anchors(text + b"\n", [0])) == 1
    mixed = text.replace(b"+", b"-", 1) if b"+" in text else text.replace(b"/", b"_", 1)
    assert b"/" in mixed or b"+" in mixed
    assert parse_anchors(mixed + b"\n", [0]) == []
    wrong_length = b"MIIF" + text[4:]  # the stated length no longer matches the content
    assert parse_anchors(wrong_length + b"\n", [0]) == []
    in_utf16_with_wide_character = text.decode().encode("utf-16le")[:800] + "\u0141".encode(
        "utf-16le"
    )
    assert parse_anchors(in_utf16_with_wide_character + bytes(4000), [0]) == []


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(sorted(TEMPLATES)),
    seed=st.integers(0, 2**32),
    tail=st.text(alphabet=ALPHABET + '-_=\r\n "', max_size=400),
    wide=st.booleans(),
)
def test_random_base64_after_a_prefix_never_raises(
    name: str, seed: int, tail: str, wide: bool
) -> None:
    """A header the template allows (random choices for its free bytes), then garbage."""
    rng = random.Random(seed)
    header = bytes(rng.choice(sorted(_byte_values(t))) for t in TEMPLATES[name].split())
    prefix = base64.b64encode(header[: len(header) - len(header) % 3]).decode()
    text = (prefix + tail).encode("utf-16le" if wide else "ascii")
    for candidate in parse_anchors(text, [0]):
        assert candidate.offset == 0
        assert 0 < candidate.length <= Base64DerParser.max_length


def test_dense_anchors_cost_little() -> None:
    """A hostile run repeating a header that states 16 KiB: each anchor decodes at most that."""
    unit = b"MIIEAAIBADANBgkqhkiG9w0BAQEFAASC"
    data = unit * 30_000
    started = time.monotonic()
    assert parse_anchors(data, range(0, len(data), len(unit))) == []
    assert time.monotonic() - started < 10.0


def test_bytes_beyond_max_length_change_nothing() -> None:
    sample = next(s for s in SAMPLES if s.name == "rsa4096-pkcs8")
    stored = base64.b64encode(sample.der).decode().encode("utf-16le")
    filler = b"Q\x00" * ((Base64DerParser.max_length - len(stored)) // 2)
    data = stored + filler
    assert len(data) == Base64DerParser.max_length
    [candidate] = parse_anchors(data, [0])
    assert parse_anchors(data + b"A\x00" * 100, [0]) == [candidate]


# --- end to end: one finding per key, PEM bodies included --------------------------------------


def _findings(run_stdout: str) -> list[tuple[str, str, str, int, str]]:
    return sorted(
        (Path(f["path"]).name, f["detector"], f["encoding"], f["offset"], f["fingerprint"])
        for f in json.loads(run_stdout)["findings"]
    )


def test_pem_bodies_are_left_to_the_pem_parser() -> None:
    """A run closed by an END line is a PEM body: only the PEM parser reports it."""
    pem = make_keys()[0].pem()
    body = pem.index(b"\n") + 1
    assert parse_anchors(pem, [body]) == []
    escaped = json.dumps({"key": pem.decode()}).replace("/", "\\/")
    for stored in (pem.decode().encode("utf-16le"), escaped.encode()):
        anchor = stored.index("MII".encode("utf-16le") if stored[1] == 0 else b"MII")
        assert parse_anchors(stored, [anchor]) == []
    # the same body without its armour lines is a bare base64 key
    bare = pem[body : pem.index(b"-----END")]
    assert len(parse_anchors(bare + b"# end of key", [0])) == 1


def test_pem_blocks_give_exactly_one_finding_and_bare_base64_its_own(tmp_path: Path) -> None:
    key = make_keys()[0]
    pem = key.pem()
    pad = b"\x00" * 101
    (tmp_path / "pem.bin").write_bytes(pad + pem + pad)
    (tmp_path / "pem16.bin").write_bytes(pad + pem.decode().encode("utf-16le") + pad)
    (tmp_path / "env.bin").write_bytes(b"PRIVATE_KEY=" + base64.b64encode(key.der()) + b"\n")
    url = base64.urlsafe_b64encode(key.der()).rstrip(b"=").decode()
    (tmp_path / "cfg16.bin").write_bytes(pad + f'"key":"{url}"'.encode("utf-16le") + pad)
    run = dumpguard("scan", tmp_path, "--format", "json")
    assert run.code == 1, run.stderr
    fingerprint = key.fingerprint
    assert _findings(run.stdout) == [
        ("cfg16.bin", "base64-der", "base64url-utf-16le", 101 + 14, fingerprint),
        ("env.bin", "base64-der", "base64", 12, fingerprint),
        ("pem.bin", "pem", "ascii", 101, fingerprint),
        ("pem16.bin", "pem", "utf-16le", 101, fingerprint),
    ]
