"""Issue #4's text and blob encodings of a key, written from `cryptography` keys.

Where a real producer is installed the samples use it (tool_encodings.py:
puttygen, gpg, openssl pkcs12, keytool).  The rest have no producer here and
are written from the published layouts: UTF-16BE text (a Java char[]),
base64/base64url DER without armour (RFC 4648 4 and 5), JWK and JWKS (RFC
7517, RFC 7518 6.2 and 6.3, RFC 8037 2), and the Windows blobs and .NET XML of
windows_blobs.py.  Each writer returns the bytes to plant and where the
structure a scan reports starts in them (`Written.anchors`).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from samplegen.errors import SampleError
from samplegen.keys import SampleKey

# Ends a UTF-16BE block as an HPROF record tag or a length field would: a UTF-16BE block
# followed by 0x00 also reads as UTF-16LE one byte on (scanner/detectors/pem.py).
UTF16BE_TERMINATOR = b"\x01"
JWK_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}

Jwk = dict[str, str]


@dataclass(frozen=True)
class Written:
    """Bytes to plant; `anchors`: where each reported structure starts in them."""

    data: bytes = field(repr=False)
    anchors: tuple[int, ...] = (0,)


def utf16be_pem(pem: bytes) -> Written:
    """The PEM block as UTF-16BE code units (a Java char[]), up to the END line's last "-"."""
    return Written(pem.rstrip(b"\n").decode("ascii").encode("utf-16-be") + UTF16BE_TERMINATOR)


def pkcs8_der(key: SampleKey) -> bytes:
    return key.encode(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8)


def base64_der_env(key: SampleKey) -> Written:
    """An environment block holding the PKCS#8 DER as one base64 value (RFC 4648 4)."""
    value = base64.b64encode(pkcs8_der(key))
    prefix = b"SERVICE_NAME=billing\nTLS_PRIVATE_KEY="
    return Written(prefix + value + b"\nLOG_LEVEL=info\n", (len(prefix),))


def base64url_der_json(key: SampleKey) -> Written:
    """A JSON secret holding the PKCS#8 DER as base64url without padding (RFC 4648 5).

    The key must be an EC P-384 key: its PKCS#8 DER is 185 bytes, so padding is
    due and missing, which makes the run base64url whatever characters it holds.
    """
    der = pkcs8_der(key)
    if len(der) % 3 == 0:
        raise SampleError(f"{key.name}: base64url sample needs a DER length with padding due")
    value = base64.urlsafe_b64encode(der).rstrip(b"=")
    prefix = b'{"name": "signing-key", "format": "pkcs8", "value": "'
    return Written(prefix + value + b'"}\n', (len(prefix),))


def b64url(data: bytes) -> str:
    """RFC 7515 2: base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_int(value: int, size: int | None = None) -> str:
    """RFC 7518 6.3.1: big-endian, minimal octets; EC coordinates at full size (6.2.1.2)."""
    size = size if size is not None else max(1, (value.bit_length() + 7) // 8)
    return b64url(value.to_bytes(size, "big"))


def private_jwk(key: SampleKey, kid: str) -> Jwk:
    """The private JWK of an RSA, EC or OKP key, "kty" first as node and most libraries write."""
    private_key = key.private_key
    if isinstance(private_key, rsa.RSAPrivateKey):
        return {"kty": "RSA", "kid": kid, **rsa_members(private_key)}
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return {"kty": "EC", "kid": kid, **ec_members(private_key)}
    return {"kty": "OKP", "kid": kid, **okp_members(private_key)}


def rsa_members(private_key: rsa.RSAPrivateKey) -> Jwk:
    numbers = private_key.private_numbers()
    public = numbers.public_numbers
    values = {"n": public.n, "e": public.e, "d": numbers.d, "p": numbers.p, "q": numbers.q}
    values |= {"dp": numbers.dmp1, "dq": numbers.dmq1, "qi": numbers.iqmp}
    return {name: b64url_int(value) for name, value in values.items()}


def ec_members(private_key: ec.EllipticCurvePrivateKey) -> Jwk:
    size = (private_key.curve.key_size + 7) // 8
    point = private_key.public_key().public_numbers()
    return {
        "crv": JWK_CURVES[private_key.curve.name],
        "x": b64url_int(point.x, size),
        "y": b64url_int(point.y, size),
        "d": b64url_int(private_key.private_numbers().private_value, size),
    }


OKP_CURVES: tuple[tuple[type, str], ...] = (
    (ed25519.Ed25519PrivateKey, "Ed25519"),
    (ed448.Ed448PrivateKey, "Ed448"),
    (x25519.X25519PrivateKey, "X25519"),
    (x448.X448PrivateKey, "X448"),
)


def okp_members(private_key: PrivateKeyTypes) -> Jwk:
    """RFC 8037 2: crv, x (the raw public key), d (the raw private key)."""
    okp_types = (
        ed25519.Ed25519PrivateKey,
        ed448.Ed448PrivateKey,
        x25519.X25519PrivateKey,
        x448.X448PrivateKey,
    )
    if not isinstance(private_key, okp_types):
        raise SampleError(f"no JWK form for {type(private_key).__name__} in the samples")
    crv = next(name for cls, name in OKP_CURVES if isinstance(private_key, cls))
    raw = serialization.Encoding.Raw
    public = private_key.public_key().public_bytes(raw, serialization.PublicFormat.Raw)
    private = private_key.private_bytes(
        raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return {"crv": crv, "x": b64url(public), "d": b64url(private)}


def jwk_file(key: SampleKey, kid: str) -> Written:
    """A private JWK file as `json.dumps(indent=2)` writes it; the anchor is its "{"."""
    return Written(json.dumps(private_jwk(key, kid), indent=2).encode("ascii") + b"\n")


def escaped_jwk_config(key: SampleKey, kid: str) -> Written:
    """A JSON config whose string value is a JWK's JSON text ({\\"kty\\": ...})."""
    config: dict[str, Any] = {
        "issuer": "https://auth.example.test",
        "signing_jwk": json.dumps(private_jwk(key, kid)),
        "ttl_seconds": 300,
    }
    text = json.dumps(config, indent=2).encode("ascii")
    return Written(text + b"\n", (text.index(b'{\\"'),))


def jwks_document(keys: list[tuple[SampleKey, str]]) -> Written:
    """A JWKS {"keys": [...]} of private JWKs; each key object is a structure of its own.

    A space before a key object keeps its offset's parity that of the first one
    (planted offsets are odd, planted.py).
    """
    text = b'{"keys": ['
    anchors: list[int] = []
    for index, (key, kid) in enumerate(keys):
        text += b", " if index else b""
        if anchors and (len(text) - anchors[0]) % 2:
            text += b" "
        anchors.append(len(text))
        text += json.dumps(private_jwk(key, kid)).encode("ascii")
    return Written(text + b"]}\n", tuple(anchors))
