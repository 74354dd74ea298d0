"""Real keystores made at test time by `keytool` (JDK) and `openssl pkcs12 -export`.

Each sample holds its bytes and the fingerprints of its private keys, computed
here from the certificates the tools export (SHA-256 of the DER
SubjectPublicKeyInfo), never from dumpguard's own code.  Built once per test
session (keytool starts a JVM per call).
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from scanner.keys.base import PayloadKind

# Distinctive enough to search every output for; printable ASCII (JCEKS needs it).
CUSTOM_PASSWORD = "Zq7-keystore-Custom-Pw!"

needs_tools = all(shutil.which(tool) for tool in ("keytool", "openssl"))


@dataclass(frozen=True)
class StoreSample:
    """name: short id; opened_with: the password label dumpguard must report;
    certificates: the PEM certificates of its key pairs, as the tools exported them."""

    name: str
    kind: PayloadKind
    data: bytes = field(repr=False)
    fingerprints: frozenset[str]
    opened_with: str
    needs_password_file: bool
    certificates: tuple[bytes, ...] = ()

    @property
    def detector(self) -> str:
        return f"keystore-{self.kind.value}"

    @property
    def encoding(self) -> str:
        return f"{self.kind.value}/{self.opened_with}"


def spki_fingerprint(certificate_pem: bytes) -> str:
    public_key = x509.load_pem_x509_certificate(certificate_pem).public_key()
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(spki).hexdigest()


def _run(*args: str | Path) -> bytes:
    return subprocess.run(
        [str(a) for a in args], check=True, capture_output=True, timeout=120
    ).stdout


_KEY_ALGORITHMS = {
    "rsa": ("-keyalg", "RSA", "-keysize", "2048"),
    "ec": ("-keyalg", "EC", "-groupname", "secp256r1"),
}


def _keytool_store(
    directory: Path, store_type: str, password: str, aliases: tuple[str, ...], secret: bool
) -> tuple[bytes, tuple[bytes, ...]]:
    path = directory / f"store.{store_type.lower()}"
    common = ("-keystore", path, "-storetype", store_type, "-storepass", password)
    certificates = []
    for alias in aliases:
        _run(
            "keytool", "-genkeypair", *common, "-keypass", password, "-alias", alias,
            *_KEY_ALGORITHMS[alias], "-dname", f"CN={alias}", "-validity", "2",
        )  # fmt: skip
        certificate = _run("keytool", "-exportcert", "-rfc", *common, "-alias", alias)
        certificates.append(certificate)
    if secret:
        _run(
            "keytool", "-genseckey", *common, "-keypass", password, "-alias", "aes",
            "-keyalg", "AES", "-keysize", "128",
        )  # fmt: skip
    return path.read_bytes(), tuple(certificates)


def _openssl_store(directory: Path, password: str, legacy: bool) -> tuple[bytes, tuple[bytes, ...]]:
    key, certificate, store = (directory / name for name in ("k.pem", "c.pem", "s.p12"))
    _run(
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
        "-out", certificate, "-subj", "/CN=openssl", "-days", "2",
    )  # fmt: skip
    legacy_flag = ("-legacy",) if legacy else ()
    _run(
        "openssl", "pkcs12", "-export", *legacy_flag, "-inkey", key, "-in", certificate,
        "-passout", f"pass:{password}", "-out", store,
    )  # fmt: skip
    return store.read_bytes(), (certificate.read_bytes(),)


@functools.cache
def store_samples() -> tuple[StoreSample, ...]:
    directory = Path(tempfile.mkdtemp(prefix="dumpguard-keystores-"))
    try:
        return tuple(_build(directory))
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _build(directory: Path) -> list[StoreSample]:
    samples = []
    specs = [
        ("keytool-pkcs12-changeit", "PKCS12", "changeit", ("rsa", "ec"), False),
        ("keytool-jks-custom", "JKS", CUSTOM_PASSWORD, ("rsa", "ec"), False),
        ("keytool-jceks-changeit-with-secret-key", "JCEKS", "changeit", ("rsa",), True),
    ]
    for name, store_type, password, aliases, secret in specs:
        sub = directory / name
        sub.mkdir()
        data, certificates = _keytool_store(sub, store_type, password, aliases, secret)
        custom = password == CUSTOM_PASSWORD
        label = "password-file" if custom else f"default-password:{password}"
        kind = PayloadKind(store_type.lower())
        samples.append(
            _sample(name, kind, data=data, label=label, custom=custom, certificates=certificates)
        )
    for name, password, legacy, label in [
        ("openssl-pkcs12-empty", "", False, "empty-password"),
        ("openssl-pkcs12-legacy-custom", CUSTOM_PASSWORD, True, "password-file"),
    ]:
        sub = directory / name
        sub.mkdir()
        data, certificates = _openssl_store(sub, password, legacy)
        custom = password == CUSTOM_PASSWORD
        samples.append(
            _sample(
                name,
                PayloadKind.PKCS12,
                data=data,
                label=label,
                custom=custom,
                certificates=certificates,
            )
        )
    return samples


def _sample(
    name: str,
    kind: PayloadKind,
    *,
    data: bytes,
    label: str,
    custom: bool,
    certificates: tuple[bytes, ...],
) -> StoreSample:
    fingerprints = frozenset(spki_fingerprint(pem) for pem in certificates)
    return StoreSample(name, kind, data, fingerprints, label, custom, certificates)
