"""JSON Web Keys (RFC 7517) with private members: RSA, EC and OKP (RFC 7518 6, RFC 8037 2).

Where they sit in memory: a JWK or JWKS file read into a buffer, a config value,
the text a program parsed or is about to send, a log line that holds a JWK
escaped inside a JSON string ({\\"kty\\":\\"RSA\\",...}), and any of these as
UTF-16LE (.NET and Java strings).

The contract chosen (scanner.detectors.base: a parser reads forward from its
anchor only, at most `max_length` bytes):

* The anchor is the "{" that opens the JWK object, whose first member may be
  any JWK member (members come in any order: node and most libraries write
  "kty" first, WebCrypto sorts them); rules/jwk.yar spells the raw and the
  escaped form.  Anchoring on a private member ("d") instead would need reading back
  to the object's start, which the contract forbids.
* A JWK holds no nested object (its members are strings and arrays of
  strings; the multi-prime "oth" is the exception, and keys with it cannot be
  proven), so the object ends at the first "}" after the anchor; a "{" before
  it means this is not a flat JWK object, and the parser stops there.  So the
  bytes read for an anchor never pass the next anchor.  A "}" inside a string
  member (a "kid" holding one) cuts the object short: no candidate.
* A JWKS ({"keys": [{...}, {...}]}) needs nothing more: each key object in its
  array is an anchor of its own and gives its own candidate.
* The object text is parsed with the json module (escaped text is first
  unescaped as the JSON string it is part of), members in any order.

The key is handed to the prover as the canonical DER every other detector
produces: RSAPrivateKey (PKCS#1; p and q recovered from n, e, d when the JWK
omits them, RFC 7518 6.3.2), RFC 5915 ECPrivateKey with the named curve and
the stated point, RFC 5958 OneAsymmetricKey v2 for OKP keys, and a
SubjectPublicKeyInfo for a JWK without private members (a public-key finding).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import rsa_recover_prime_factors

from scanner.detectors.base import Candidate, Parser, Window
from scanner.detectors.der_spki import ED448, ED25519, X448, X25519, KeyAlgorithm
from scanner.detectors.key_der import (
    RsaNumbers,
    ec_private_der,
    ec_public_spki,
    raw_private_der,
    raw_public_spki,
    rsa_private_der,
    rsa_public_spki,
)
from scanner.detectors.text import decode_unpadded, narrow_utf16, utf16le_width
from scanner.keys.base import Payload, PayloadKind
from scanner.keys.ec import CURVES, Curve
from scanner.keys.rsa import MAX_RSA_BITS

# An RSA-16384 private JWK: n and d 2731 base64url characters, p, q, dp, dq, qi
# 1366 each, members and quotes about 100: 12.3 K characters.  Escaping adds two
# characters a member name, pretty-printing a line of indentation per member,
# UTF-16LE doubles it: 64 KiB leaves room for long "kid" and "x5c" members.
MAX_LENGTH = 65536

_CURVES: Mapping[str, Curve] = {curve.name: curve for curve in CURVES}
_OKP_ALGORITHMS: Mapping[str, KeyAlgorithm] = {
    algorithm.name: algorithm for algorithm in (ED25519, X25519, ED448, X448)
}
_RSA_PRIVATE_MEMBERS = ("p", "q", "dp", "dq", "qi")
_BRACES = {1: re.compile(rb"[{}]"), 2: re.compile(rb"[{}]\x00")}
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")
# The opening of an object whose first member name is escaped: {\"kty\": ...
_ESCAPED_OPENING = re.compile(r'\{(?:[ \t\r\n]|\\[nrt])*\\"')
_MAX_MEMBER_CHARACTERS = 4 * (MAX_RSA_BITS // 8 + 2) // 3 + 4


class JwkParser(Parser):
    name = "jwk"
    max_length = MAX_LENGTH

    def parse(self, window: Window, position: int) -> Iterable[Candidate]:
        data = window.data
        width = utf16le_width(data, position)
        limit = min(len(data), position + self.max_length)
        closing = _BRACES[width].search(data, position + width, limit)
        if closing is None or data[closing.start()] != ord("}"):
            return ()
        text = _text(data[position : closing.end()], width)
        parsed = _parse_object(text) if text is not None else None
        payload = _payload(parsed[0]) if parsed is not None else None
        if parsed is None or payload is None:
            return ()
        encoding = "json" + ("-escaped" if parsed[1] else "") + ("-utf-16le" if width == 2 else "")
        length = closing.end() - position
        return (Candidate(self.name, encoding, window.start + position, length, payload),)


def _text(raw: bytes, width: int) -> str | None:
    """The object's text: UTF-8 (RFC 8259 8.1), or UTF-16LE with every code unit
    below 0x100 (Latin-1; a wider character is not part of a key's members)."""
    if width == 2:
        narrow = narrow_utf16(raw)
        return None if narrow is None else narrow.decode("latin-1")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _parse_object(text: str) -> tuple[dict[str, Any], bool] | None:
    """(members, escaped) of the object text; None unless it is one JSON object."""
    escaped = _ESCAPED_OPENING.match(text) is not None
    try:
        source = json.loads('"' + text + '"') if escaped else text
        members = json.loads(source)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        return None
    return (members, escaped) if isinstance(members, dict) else None


def _payload(members: Mapping[str, Any]) -> Payload | None:
    match members.get("kty"):
        case "RSA":
            return _rsa_payload(members)
        case "EC":
            return _ec_payload(members)
        case "OKP":
            return _okp_payload(members)
        case _:
            return None


def _string(members: Mapping[str, Any], name: str) -> str:
    value = members.get(name)
    return value if isinstance(value, str) else ""


def _octets(members: Mapping[str, Any], name: str) -> bytes | None:
    """A base64url member (RFC 7515 2: no padding; padded writers are tolerated)."""
    value = members.get(name)
    if not isinstance(value, str) or len(value) > _MAX_MEMBER_CHARACTERS:
        return None
    if not value or not _BASE64URL.fullmatch(value) or len(value.rstrip("=")) % 4 == 1:
        return None
    return decode_unpadded(value.rstrip("=").encode("ascii"))


def _integer(members: Mapping[str, Any], name: str) -> int | None:
    octets = _octets(members, name)
    return int.from_bytes(octets, "big") if octets is not None else None


def _rsa_payload(members: Mapping[str, Any]) -> Payload | None:
    n, e = _integer(members, "n"), _integer(members, "e")
    if n is None or e is None:
        return None
    if "d" not in members:
        spki = rsa_public_spki(n, e)
        return Payload(PayloadKind.SPKI, spki) if spki is not None else None
    numbers = _rsa_numbers(members, n, e)
    der = rsa_private_der(numbers) if numbers is not None else None
    return Payload(PayloadKind.PKCS1_PRIVATE, der) if der is not None else None


def _rsa_numbers(members: Mapping[str, Any], n: int, e: int) -> RsaNumbers | None:
    """RFC 7518 6.3.2: d alone, or d with all of p, q, dp, dq, qi."""
    d = _integer(members, "d")
    stated = [_integer(members, name) for name in _RSA_PRIVATE_MEMBERS]
    if d is None or n.bit_length() > MAX_RSA_BITS:
        return None
    if all(value is None for value in stated):
        primes = _recover_primes(n, e, d)
        return RsaNumbers(n, e, *primes, d=d) if primes is not None else None
    p, q, dp, dq, qi = stated
    if p is None or q is None or dp is None or dq is None or qi is None:
        return None
    return RsaNumbers(n, e, p, q, d=d, dp=dp, dq=dq, qinv=qi)


def _recover_primes(n: int, e: int, d: int) -> tuple[int, int] | None:
    # For a real key a^(ed-1) = 1 mod n (RFC 8017 3.2); one exponentiation turns
    # garbage away before the factoring loop, which tries up to a thousand.
    if not 1 < d < n or not 1 < e < n or pow(2, e * d - 1, n) != 1:
        return None
    try:
        return rsa_recover_prime_factors(n, e, d)
    except ValueError:  # no factorisation found: d does not belong to (n, e)
        return None


def _ec_payload(members: Mapping[str, Any]) -> Payload | None:
    curve = _CURVES.get(_string(members, "crv"))
    x, y = _octets(members, "x"), _octets(members, "y")
    if curve is None or x is None or y is None:
        return None
    size = curve.size_bytes
    if len(x) != size or len(y) != size:  # RFC 7518 6.2.1.2: full-length coordinates
        return None
    point = b"\x04" + x + y
    if "d" not in members:
        spki = ec_public_spki(curve, point)
        return Payload(PayloadKind.SPKI, spki) if spki is not None else None
    scalar = _octets(members, "d")
    if scalar is None or len(scalar) != size:  # RFC 7518 6.2.2.1: full length
        return None
    der = ec_private_der(curve, int.from_bytes(scalar, "big"), point)
    return Payload(PayloadKind.SEC1_PRIVATE, der) if der is not None else None


def _okp_payload(members: Mapping[str, Any]) -> Payload | None:
    algorithm = _OKP_ALGORITHMS.get(_string(members, "crv"))
    public_key = _octets(members, "x")
    if algorithm is None or public_key is None:
        return None
    if "d" not in members:
        spki = raw_public_spki(algorithm, public_key)
        return Payload(PayloadKind.SPKI, spki) if spki is not None else None
    private_key = _octets(members, "d")
    der = raw_private_der(algorithm, private_key, public_key) if private_key else None
    return Payload(PayloadKind.PKCS8_PRIVATE, der) if der is not None else None
