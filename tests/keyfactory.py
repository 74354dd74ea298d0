"""Real keys made with `cryptography` for tests, and every text form of their secrets.

`secret_strings` lists what must never appear in any output: PEM body lines,
the whole base64 body, the DER in hex, and the private numbers in hex and
decimal.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from scanner.keys.fingerprint import fingerprint_public_key


@dataclass(frozen=True)
class SampleKey:
    name: str
    key: PrivateKeyTypes = field(repr=False)

    @property
    def fingerprint(self) -> str:
        return fingerprint_public_key(self.key.public_key())

    def pem(self, fmt: serialization.PrivateFormat = serialization.PrivateFormat.PKCS8) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())

    def der(self, fmt: serialization.PrivateFormat = serialization.PrivateFormat.PKCS8) -> bytes:
        return self.key.private_bytes(serialization.Encoding.DER, fmt, serialization.NoEncryption())

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def secret_strings(self) -> list[str]:
        pem = self.pem().decode()
        body = [line for line in pem.splitlines() if line and not line.startswith("-----")]
        der = self.der()
        secrets = [*body, "".join(body), der.hex(), der.hex().upper()]
        secrets.append(base64.b64encode(der).decode()[:40])
        secrets.extend(_private_number_strings(self.key))
        return [s for s in secrets if len(s) >= 16]


def _private_number_strings(key: PrivateKeyTypes) -> list[str]:
    numbers: list[int] = []
    if isinstance(key, rsa.RSAPrivateKey):
        private = key.private_numbers()
        numbers = [private.d, private.p, private.q, private.dmp1, private.dmq1, private.iqmp]
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        numbers = [key.private_numbers().private_value]
    elif isinstance(key, dsa.DSAPrivateKey):
        numbers = [key.private_numbers().x]
    strings: list[str] = []
    for number in numbers:
        strings += [f"{number:x}", f"{number:X}", str(number)]
    return strings


def make_keys() -> list[SampleKey]:
    return [
        SampleKey("rsa2048", rsa.generate_private_key(65537, 2048)),
        SampleKey("p256", ec.generate_private_key(ec.SECP256R1())),
        SampleKey("ed25519", ed25519.Ed25519PrivateKey.generate()),
        SampleKey("dsa2048", dsa.generate_private_key(2048)),
    ]


def json_escaped(pem: bytes) -> bytes:
    """A PEM inside a JSON config string (newlines as backslash-n)."""
    return json.dumps({"tls": {"key": pem.decode()}}).encode()
