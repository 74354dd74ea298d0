"""Fresh sample keys and the facts a manifest may hold about them.

Keys are generated on every run and written only under the out dir's keys/
folder (git-ignored test data).  Facts (`KeyFact`) carry no key material: the
kind, the algorithm name and the fingerprint, which is "sha256:" + hex SHA-256
of the DER SubjectPublicKeyInfo, computed here with hashlib on purpose rather
than with dumpguard's own code, so the manifest is independent ground truth.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519
from cryptography.hazmat.primitives.asymmetric.types import (
    PrivateKeyTypes,
    PublicKeyTypes,
)

PRIVATE = "private-key"
ENCRYPTED = "encrypted-private-key"
PUBLIC = "public-key"
CERTIFICATE = "certificate"
KEYSTORE = "keystore"  # a PKCS#12 or JKS store; its keys are findings of their own

PASSPHRASE = "x"  # every encrypted sample uses this passphrase (documented in README)

Generator = Callable[[], PrivateKeyTypes]


@functools.cache
def dsa_parameters() -> dsa.DSAParameters:
    """One DSA-2048 domain (p, q, g) for every sample DSA key: generating p and q is the slow
    part (~0.3 s each), and keys sharing a domain is how DSA is deployed (FIPS 186-4 4.3)."""
    return dsa.generate_parameters(key_size=2048)


GENERATORS: dict[str, Generator] = {
    "RSA-2048": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "RSA-4096": lambda: rsa.generate_private_key(public_exponent=65537, key_size=4096),
    "EC-P256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "EC-P384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "Ed25519": ed25519.Ed25519PrivateKey.generate,
    "Ed448": ed448.Ed448PrivateKey.generate,
    "X25519": x25519.X25519PrivateKey.generate,
    "X448": x448.X448PrivateKey.generate,
    "DSA-2048": lambda: dsa_parameters().generate_private_key(),
}


@dataclass(frozen=True)
class KeyFact:
    """What a scan should report about one key: no key bytes."""

    kind: str
    algorithm: str | None
    fingerprint: str | None


def fingerprint(public_key: PublicKeyTypes) -> str:
    spki_der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(spki_der).hexdigest()


def algorithm_name(public_key: PublicKeyTypes) -> str:
    """The names dumpguard reports: RSA, EC, DSA, Ed25519, Ed448, X25519, X448."""
    names: list[tuple[type, str]] = [
        (rsa.RSAPublicKey, "RSA"),
        (ec.EllipticCurvePublicKey, "EC"),
        (dsa.DSAPublicKey, "DSA"),
        (ed25519.Ed25519PublicKey, "Ed25519"),
        (ed448.Ed448PublicKey, "Ed448"),
        (x25519.X25519PublicKey, "X25519"),
        (x448.X448PublicKey, "X448"),
    ]
    for key_type, name in names:
        if isinstance(public_key, key_type):
            return name
    raise TypeError(f"no sample algorithm name for {type(public_key).__name__}")


def public_fact(public_key: PublicKeyTypes, kind: str) -> KeyFact:
    return KeyFact(
        kind=kind, algorithm=algorithm_name(public_key), fingerprint=fingerprint(public_key)
    )


@dataclass(frozen=True)
class SampleKey:
    """One generated private key; `name` is its file stem under keys/."""

    name: str
    private_key: PrivateKeyTypes = field(repr=False)

    @property
    def public_key(self) -> PublicKeyTypes:
        return self.private_key.public_key()

    def fact(self, kind: str = PRIVATE) -> KeyFact:
        return public_fact(self.public_key, kind)

    def encode(
        self, encoding: serialization.Encoding, private_format: serialization.PrivateFormat
    ) -> bytes:
        return self.private_key.private_bytes(
            encoding, private_format, serialization.NoEncryption()
        )

    def pkcs8_pem(self) -> bytes:
        return self.encode(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8)

    def spki_pem(self) -> bytes:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def file_in(self, keys_dir: Path) -> Path:
        return keys_dir / f"{self.name}.pem"

    def save(self, keys_dir: Path) -> Path:
        """Write the key as unencrypted PKCS#8 PEM, readable by its owner only."""
        path = self.file_in(keys_dir)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(self.pkcs8_pem())
        return path


def generate(name: str, algorithm: str, keys_dir: Path) -> SampleKey:
    """A fresh key of `algorithm` (a GENERATORS name), saved as keys/<name>.pem."""
    key = SampleKey(name=name, private_key=GENERATORS[algorithm]())
    key.save(keys_dir)
    return key


def load(path: Path) -> SampleKey:
    private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    return SampleKey(name=path.stem, private_key=private_key)
