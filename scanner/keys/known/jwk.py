"""JSON Web Keys: a JWK Set {"keys": [...]} (RFC 7517 section 5) or one JWK object.

Supported key types (RFC 7518 section 6, RFC 8037 section 2):

* RSA: n, e
* EC: crv P-256 / P-384 / P-521 / secp256k1 (RFC 8812), x, y
* OKP: crv Ed25519 / Ed448 / X25519 / X448, x

Members are base64url without padding (RFC 7515 section 2); trailing "=" is
tolerated.  An entry with only "x5c" (RFC 7517 section 4.7) loads the key of
its first certificate; with both, the two must be the same key.

An entry that also holds private members ("d", "p", "q", "dp", "dq", "qi",
"oth") loads its public half without complaint: a JWKS endpoint never serves
them, but a user may well point --known-keys at their private JWK file, and
the public half is all we read.  Nothing from a member value ever reaches a
message.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from scanner.keys.fingerprint import fingerprint_public_key
from scanner.keys.known.base import (
    KnownKeyLoader,
    LoadedKey,
    known_key_error,
    load_certificate,
    loaded_key,
    where,
)

# OpenSSL's RSA limit (OPENSSL_RSA_MAX_MODULUS_BITS); bounds the integer we build from "n".
_MAX_RSA_BITS = 16384
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")
_JSON_WHITESPACE = " \t\n\r"
_UTF8_BOM = b"\xef\xbb\xbf"

_EC_CURVES: dict[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
    "secp256k1": ec.SECP256K1(),
}
_OKP_CURVES: dict[str, Callable[[bytes], PublicKeyTypes]] = {
    "Ed25519": ed25519.Ed25519PublicKey.from_public_bytes,
    "Ed448": ed448.Ed448PublicKey.from_public_bytes,
    "X25519": x25519.X25519PublicKey.from_public_bytes,
    "X448": x448.X448PublicKey.from_public_bytes,
}

JsonObject = dict[str, object]


class _BadEntry(Exception):  # noqa: N818 - internal signal, becomes a KnownKeyError
    """One JWK is unusable; the message says why, never with member values."""


class JwkLoader(KnownKeyLoader):
    name = "jwk"

    def probe(self, data: bytes, path: Path) -> bool:
        return data.removeprefix(_UTF8_BOM).lstrip().startswith(b"{")

    def load(self, data: bytes, path: Path) -> list[LoadedKey]:
        text = _decode_text(data, path)
        document = _parse_json(text, path)
        entries = _entries(document, path)
        return [_load_entry(entry, index, text, path) for index, entry in enumerate(entries)]


def _decode_text(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise known_key_error(path, line, "JSON file is not UTF-8") from None


def _parse_json(text: str, path: Path) -> JsonObject:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        # error.msg is json's fixed wording ("Expecting ',' delimiter"), never file content.
        raise known_key_error(path, error.lineno, f"invalid JSON: {error.msg}") from None
    except (ValueError, RecursionError):  # over-long integer literal, hostile nesting
        raise known_key_error(path, None, "invalid JSON: too deeply nested or too large") from None
    if not isinstance(document, dict):
        raise known_key_error(path, 1, "JSON is not a JWK or JWK Set object")
    return document


def _entries(document: JsonObject, path: Path) -> list[object]:
    if "keys" in document:
        keys = document["keys"]
        if not isinstance(keys, list):
            raise known_key_error(path, None, "JWK Set member 'keys' is not an array")
        return keys
    if "kty" in document or "x5c" in document:
        return [document]
    raise known_key_error(path, None, "JSON holds neither a JWK ('kty') nor a JWK Set ('keys')")


def _load_entry(entry: object, index: int, text: str, path: Path) -> LoadedKey:
    number = index + 1
    try:
        if not isinstance(entry, dict):
            raise _BadEntry("is not a JSON object")
        public_key = _entry_public_key(entry)
    except _BadEntry as bad:
        line = _entry_line(text, index)
        raise known_key_error(path, line, f"JWK #{number} (keys[{index}]) {bad}") from None
    kid = entry.get("kid")
    key_id = kid if isinstance(kid, str) and kid else f"{path}#{number}"
    return loaded_key(public_key, key_id, where(path))


def _entry_public_key(jwk: JsonObject) -> PublicKeyTypes:
    has_members = "n" in jwk or "x" in jwk
    certificate_key = _x5c_key(jwk) if "x5c" in jwk else None
    if certificate_key is not None and not has_members:
        return certificate_key
    member_key = _member_key(jwk)
    if certificate_key is not None and fingerprint_public_key(
        certificate_key
    ) != fingerprint_public_key(member_key):
        raise _BadEntry("has an 'x5c' certificate for a different key than its members")
    return member_key


def _member_key(jwk: JsonObject) -> PublicKeyTypes:
    kty = jwk.get("kty")
    if kty == "RSA":
        return _rsa_key(jwk)
    if kty == "EC":
        return _ec_key(jwk)
    if kty == "OKP":
        return _okp_key(jwk)
    if kty == "oct":
        raise _BadEntry("is a symmetric key (kty 'oct'), not a public key")
    if not isinstance(kty, str):
        raise _BadEntry("has no 'kty' member")
    raise _BadEntry(f"has unsupported kty {_shown(kty)}")


def _rsa_key(jwk: JsonObject) -> PublicKeyTypes:
    modulus = int.from_bytes(_base64url_member(jwk, "n"), "big")
    exponent = int.from_bytes(_base64url_member(jwk, "e"), "big")
    if modulus.bit_length() > _MAX_RSA_BITS:
        raise _BadEntry(f"RSA modulus is longer than {_MAX_RSA_BITS} bits")
    try:
        return rsa.RSAPublicNumbers(exponent, modulus).public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise _BadEntry("RSA members 'n', 'e' do not form a valid public key") from None


def _ec_key(jwk: JsonObject) -> PublicKeyTypes:
    curve = _EC_CURVES.get(_curve_name(jwk))
    if curve is None:
        raise _BadEntry(f"has unsupported EC crv {_shown(jwk.get('crv'))}")
    # RFC 7518 6.2.1.2/6.2.1.3: each coordinate is the full field size, big-endian.
    coordinate_size = (curve.key_size + 7) // 8
    x = _base64url_member(jwk, "x")
    y = _base64url_member(jwk, "y")
    if len(x) != coordinate_size or len(y) != coordinate_size:
        raise _BadEntry(f"EC members 'x', 'y' must be {coordinate_size} bytes for {curve.name}")
    try:
        # SEC 1 2.3.3 uncompressed point; cryptography checks it lies on the curve.
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x04" + x + y)
    except (ValueError, UnsupportedAlgorithm):
        raise _BadEntry("EC members 'x', 'y' are not a point on the curve") from None


def _okp_key(jwk: JsonObject) -> PublicKeyTypes:
    from_public_bytes = _OKP_CURVES.get(_curve_name(jwk))
    if from_public_bytes is None:
        raise _BadEntry(f"has unsupported OKP crv {_shown(jwk.get('crv'))}")
    try:
        return from_public_bytes(_base64url_member(jwk, "x"))
    except (ValueError, UnsupportedAlgorithm):
        raise _BadEntry(f"OKP member 'x' is not a valid {jwk['crv']} public key") from None


def _x5c_key(jwk: JsonObject) -> PublicKeyTypes:
    chain = jwk["x5c"]
    # RFC 7517 4.7: array of standard base64 (not base64url) DER certificates, the key's first.
    if not isinstance(chain, list) or not chain or not isinstance(chain[0], str):
        raise _BadEntry("member 'x5c' is not a non-empty array of strings")
    try:
        certificate = load_certificate(base64.b64decode(chain[0], validate=True))
        return certificate.public_key()
    except (ValueError, binascii.Error, UnsupportedAlgorithm):
        raise _BadEntry("member 'x5c' does not start with a usable certificate") from None


def _curve_name(jwk: JsonObject) -> str:
    crv = jwk.get("crv")
    if not isinstance(crv, str):
        raise _BadEntry("has no 'crv' member")
    return crv


def _base64url_member(jwk: JsonObject, name: str) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise _BadEntry(f"has no string member '{name}'")
    unpadded = value.rstrip("=")
    if not _BASE64URL.fullmatch(value) or len(unpadded) % 4 == 1:
        raise _BadEntry(f"member '{name}' is not base64url")
    return base64.urlsafe_b64decode(unpadded + "=" * (-len(unpadded) % 4))


def _shown(value: object) -> str:
    """A kty/crv value for a message: short names only, so no member value leaks through."""
    if isinstance(value, str) and len(value) <= 16 and value.isprintable():
        return repr(value)
    return "(unrecognised value)"


def _entry_line(text: str, index: int) -> int:
    """1-based line where entry `index` starts; text already parsed as JSON."""
    offsets = _keys_array_offsets(text)
    offset = offsets[index] if index < len(offsets) else _skip_whitespace(text, 0)
    return text.count("\n", 0, offset) + 1


def _keys_array_offsets(text: str) -> list[int]:
    """Offsets of the elements of the top-level "keys" array, [] for a single JWK.

    Walks the top-level object member by member with raw_decode; like
    json.loads, the last "keys" member wins when there are several.
    """
    decoder = json.JSONDecoder()
    offsets: list[int] = []
    position = _skip_whitespace(text, _skip_whitespace(text, 0) + 1)  # past "{"
    while text[position] != "}":
        name, position = decoder.raw_decode(text, position)
        position = _skip_whitespace(text, _skip_whitespace(text, position) + 1)  # past ":"
        if name == "keys" and text[position] == "[":
            offsets, position = _array_offsets(text, position, decoder)
        else:
            _, position = decoder.raw_decode(text, position)
        position = _skip_whitespace(text, position)
        position = _skip_whitespace(text, position + 1) if text[position] == "," else position
    return offsets


def _array_offsets(text: str, position: int, decoder: json.JSONDecoder) -> tuple[list[int], int]:
    """Element offsets of the array opening at `position`, and the offset after "]"."""
    offsets: list[int] = []
    position = _skip_whitespace(text, position + 1)  # past "["
    while text[position] != "]":
        offsets.append(position)
        _, position = decoder.raw_decode(text, position)
        position = _skip_whitespace(text, position)
        position = _skip_whitespace(text, position + 1) if text[position] == "," else position
    return offsets, position + 1


def _skip_whitespace(text: str, position: int) -> int:
    while position < len(text) and text[position] in _JSON_WHITESPACE:
        position += 1
    return position
