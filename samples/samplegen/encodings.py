"""The encodings planted files use, made with the real tools where the brief names them."""

from __future__ import annotations

import base64
import datetime
import json
from pathlib import Path
from typing import cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificatePublicKeyTypes,
    PublicKeyTypes,
)
from cryptography.x509.oid import NameOID

from samplegen.errors import SampleError
from samplegen.keys import PASSPHRASE, SampleKey
from samplegen.tools import run

Encoding = serialization.Encoding
PrivateFormat = serialization.PrivateFormat


def pem_body(pem: bytes) -> bytes:
    """The base64 between the armor lines, joined (headers such as Proc-Type excluded)."""
    lines = [line for line in pem.splitlines() if line and not line.startswith(b"-----")]
    return b"".join(line for line in lines if b":" not in line)


def openssh_pem(key: SampleKey) -> bytes:
    return key.encode(Encoding.PEM, PrivateFormat.OpenSSH)


def openssh_blob(key: SampleKey) -> bytes:
    """The binary openssh-key-v1 structure (PROTOCOL.key), as it sits in memory unarmored."""
    return base64.b64decode(pem_body(openssh_pem(key)))


def utf16le(text: bytes) -> bytes:
    return text.decode("ascii").encode("utf-16-le")


def crlf(pem: bytes) -> bytes:
    return pem.replace(b"\n", b"\r\n")


def yaml_block(pem: bytes) -> bytes:
    """The PEM as a YAML literal block, every line indented by six spaces."""
    indented = b"".join(b"      " + line + b"\n" for line in pem.splitlines())
    return b"service:\n  tls:\n    certificate: /etc/ssl/service.crt\n    key: |\n" + indented


def json_config(pem: bytes) -> bytes:
    """A JSON config holding the PEM as a string: newlines become the two characters \\n."""
    config = {
        "service": "billing",
        "listen": ":8443",
        "tls": {"certificate_file": "/etc/ssl/billing.crt", "private_key": pem.decode("ascii")},
        "retries": 3,
    }
    return json.dumps(config, indent=2).encode("ascii")


def openssl_encrypted_pkcs8(key_path: Path, der: bool) -> bytes:
    """openssl pkcs8 -topk8 -v2 aes-256-cbc: an EncryptedPrivateKeyInfo (RFC 5208)."""
    argv = [
        "openssl",
        "pkcs8",
        "-topk8",
        "-v2",
        "aes-256-cbc",
        "-passout",
        f"pass:{PASSPHRASE}",
        "-in",
        str(key_path),
    ]
    encrypted = run([*argv, "-outform", "DER"] if der else argv)
    marker = b"\x30" if der else b"-----BEGIN ENCRYPTED PRIVATE KEY-----"
    if not encrypted.startswith(marker):
        raise SampleError(f"openssl pkcs8 -topk8 on {key_path.name}: unexpected output")
    return encrypted


def openssl_legacy_encrypted_rsa(key_path: Path) -> bytes:
    """openssl rsa -aes128 -traditional: RFC 1421 PEM with Proc-Type and DEK-Info headers."""
    encrypted = run(
        [
            "openssl",
            "rsa",
            "-in",
            str(key_path),
            "-aes128",
            "-traditional",
            "-passout",
            f"pass:{PASSPHRASE}",
        ]
    )
    expected = (
        b"-----BEGIN RSA PRIVATE KEY-----",
        b"Proc-Type: 4,ENCRYPTED",
        b"DEK-Info: AES-128-CBC,",
    )
    if not all(marker in encrypted for marker in expected):
        raise SampleError(
            f"openssl rsa -aes128 on {key_path.name}: no Proc-Type/DEK-Info in output"
        )
    return encrypted


def ssh_keygen_encrypted(keys_dir: Path, name: str) -> tuple[bytes, PublicKeyTypes]:
    """An ECDSA P-384 OpenSSH key encrypted with the passphrase (aes256-ctr, bcrypt KDF).

    ssh-keygen, because cryptography needs the separate bcrypt module to encrypt
    OpenSSH keys.  The public key is stored in clear in the openssh-key-v1 header,
    so the fingerprint is known even though the private part is encrypted.
    """
    key_path = keys_dir / name
    run(
        [
            "ssh-keygen",
            "-q",
            "-t",
            "ecdsa",
            "-b",
            "384",
            "-N",
            PASSPHRASE,
            "-C",
            "dumpguard-sample",
            "-f",
            str(key_path),
        ]
    )
    public_key = serialization.load_ssh_public_key(key_path.with_suffix(".pub").read_bytes())
    return key_path.read_bytes(), public_key


def self_signed_certificate(key: SampleKey, common_name: str) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(cast(CertificatePublicKeyTypes, key.public_key))
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
    )
    # EdDSA signs without a separate hash; everything else here signs with SHA-256.
    eddsa = isinstance(key.private_key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey)
    return builder.sign(key.private_key, None if eddsa else hashes.SHA256())  # type: ignore[arg-type]


def certificate_bytes(certificate: x509.Certificate, encoding: serialization.Encoding) -> bytes:
    return certificate.public_bytes(encoding)
