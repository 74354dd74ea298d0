"""Key fingerprints: "sha256:" + lowercase hex SHA-256 of the DER SubjectPublicKeyInfo."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

PREFIX = "sha256:"


def fingerprint_spki(spki_der: bytes) -> str:
    return PREFIX + hashlib.sha256(spki_der).hexdigest()


def fingerprint_public_key(public_key: PublicKeyTypes) -> str:
    spki_der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return fingerprint_spki(spki_der)
