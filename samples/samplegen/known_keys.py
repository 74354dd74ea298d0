"""The known-keys directory: public halves of some sampled keys, in four forms.

    known-keys/spki.pem          PEM SubjectPublicKeyInfo of planted/pem-pkcs1-rsa.bin
    known-keys/cert.pem          self-signed certificate of planted/pem-pkcs8-ec-p384.bin's key
    known-keys/jwks.json         JWKS: the gcore python-pem key and planted Ed25519 key, with kid
    known-keys/authorized_keys   OpenSSH line of planted/pem-openssh.bin's key, with a comment
    known-keys/encodings-*       the same forms for some issue #4 encoding samples
                                 (write_encoding_known_keys)

    known-keys-raw/   the same for the keys of dumps-raw/ (write_raw_known_keys):
                      openssl-{rsa,ec}-cert.pem (certificates openssl req made),
                      python-dropped-spki.pem (PEM SPKI), jwks.json (kid jvm-keyfactory)

The id each key gets follows dumpguard's loaders (scanner/keys/known/): a JWK's
kid, a certificate's RFC 4514 subject, an authorized_keys comment, and for a
PEM public key "<path>#<1-based block index>", where <path> is the file path as
the scan names it; the manifest writes it relative to the out dir
("known-keys/spki.pem#1"), which is what a scan run from the out dir with
`--known-keys known-keys` reports.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from samplegen import encodings as enc
from samplegen.errors import SampleError
from samplegen.keys import CERTIFICATE, PUBLIC, SampleKey, fingerprint
from samplegen.manifest import KNOWN_KEYS, KNOWN_KEYS_RAW

CERTIFICATE_COMMON_NAME = "dumpguard known ec-p384"
AUTHORIZED_KEYS_COMMENT = "dumpguard-known-openssh-ed25519"


@dataclass(frozen=True)
class KnownKeyEntry:
    """One key the known-keys directory defines: where, its id and its fingerprint."""

    display_path: str
    key_id: str
    kind: str
    algorithm: str
    fingerprint: str


def b64url_uint(value: int) -> str:
    # RFC 7518 section 2: Base64urlUInt, big-endian without leading zeros, no padding.
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwk(key: SampleKey, kid: str) -> dict[str, str]:
    """The public JWK (RFC 7517/7518, RFC 8037 for OKP) of an RSA or Ed25519 key."""
    public_key = key.public_key
    if isinstance(public_key, rsa.RSAPublicKey):
        numbers = public_key.public_numbers()
        return {
            "kty": "RSA",
            "kid": kid,
            "use": "sig",
            "n": b64url_uint(numbers.n),
            "e": b64url_uint(numbers.e),
        }
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "kid": kid, "use": "sig", "x": b64url(raw)}
    raise SampleError(f"{key.name}: no JWK form for {type(public_key).__name__} in the samples")


def authorized_keys_line(key: SampleKey) -> bytes:
    return public_key_line(key, AUTHORIZED_KEYS_COMMENT)


def public_key_line(key: SampleKey, comment: str) -> bytes:
    """An OpenSSH public key line (authorized_keys, *.pub) with `comment` as the key's id."""
    openssh = key.public_key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return openssh + b" " + comment.encode("ascii") + b"\n"


def entry(
    file_name: str,
    key_id: str,
    key: SampleKey,
    kind: str = PUBLIC,
    known_dir_name: str = KNOWN_KEYS,
) -> KnownKeyEntry:
    fact = key.fact(kind)
    assert fact.algorithm is not None
    assert fact.fingerprint is not None
    return KnownKeyEntry(
        f"{known_dir_name}/{file_name}", key_id, kind, fact.algorithm, fact.fingerprint
    )


def write_known_keys(
    out_dir: Path,
    spki_key: SampleKey,
    certificate_key: SampleKey,
    jwks_keys: list[tuple[SampleKey, str]],
    authorized_key: SampleKey,
) -> list[KnownKeyEntry]:
    known_dir = out_dir / KNOWN_KEYS
    known_dir.mkdir()
    (known_dir / "spki.pem").write_bytes(spki_key.spki_pem())
    certificate = enc.self_signed_certificate(certificate_key, CERTIFICATE_COMMON_NAME)
    (known_dir / "cert.pem").write_bytes(
        enc.certificate_bytes(certificate, serialization.Encoding.PEM)
    )
    jwks = {"keys": [jwk(key, kid) for key, kid in jwks_keys]}
    (known_dir / "jwks.json").write_text(json.dumps(jwks, indent=2) + "\n", encoding="ascii")
    (known_dir / "authorized_keys").write_bytes(authorized_keys_line(authorized_key))
    return [
        entry("spki.pem", f"{KNOWN_KEYS}/spki.pem#1", spki_key),
        entry("cert.pem", certificate.subject.rfc4514_string(), certificate_key, CERTIFICATE),
        *(entry("jwks.json", kid, key) for key, kid in jwks_keys),
        entry("authorized_keys", AUTHORIZED_KEYS_COMMENT, authorized_key),
    ]


RAW_SPKI_FILE = "python-dropped-spki.pem"
RAW_JWKS_FILE = "jwks.json"


def certificate_entry(file_name: str, key: SampleKey, known_dir: Path) -> KnownKeyEntry:
    """The entry of a PEM certificate already in `known_dir`; it must certify `key`."""
    certificate = x509.load_pem_x509_certificate((known_dir / file_name).read_bytes())
    made = entry(file_name, certificate.subject.rfc4514_string(), key, CERTIFICATE, known_dir.name)
    if fingerprint(certificate.public_key()) != made.fingerprint:
        raise SampleError(f"{known_dir.name}/{file_name}: certifies another key than {key.name}")
    return made


def write_raw_known_keys(
    out_dir: Path,
    certificate_files: list[tuple[str, SampleKey]],
    spki_key: SampleKey,
    jwks_keys: list[tuple[SampleKey, str]],
) -> list[KnownKeyEntry]:
    """Complete known-keys-raw/ (the certificates are there already) and list its keys."""
    known_dir = out_dir / KNOWN_KEYS_RAW
    (known_dir / RAW_SPKI_FILE).write_bytes(spki_key.spki_pem())
    jwks = {"keys": [jwk(key, kid) for key, kid in jwks_keys]}
    (known_dir / RAW_JWKS_FILE).write_text(json.dumps(jwks, indent=2) + "\n", encoding="ascii")
    spki_id = f"{KNOWN_KEYS_RAW}/{RAW_SPKI_FILE}#1"
    return [
        *(certificate_entry(name, key, known_dir) for name, key in certificate_files),
        entry(RAW_SPKI_FILE, spki_id, spki_key, PUBLIC, KNOWN_KEYS_RAW),
        *(entry(RAW_JWKS_FILE, kid, key, PUBLIC, KNOWN_KEYS_RAW) for key, kid in jwks_keys),
    ]


ENCODINGS_SPKI_FILE = "encodings-spki.pem"
ENCODINGS_CERT_FILE = "encodings-cert.pem"
ENCODINGS_JWKS_FILE = "encodings-jwks.json"
ENCODINGS_SSH_FILE = "encodings.pub"


def write_encoding_known_keys(
    out_dir: Path,
    spki_key: SampleKey,
    certificate: tuple[SampleKey, x509.Certificate],
    jwks_keys: list[tuple[SampleKey, str]],
    ssh_key: tuple[SampleKey, str],
) -> list[KnownKeyEntry]:
    """The issue #4 encoding samples' known keys, in files of their own beside the others:
    a PEM SPKI, the certificate inside the PKCS#12, a JWKS and an OpenSSH public key line."""
    known_dir = out_dir / KNOWN_KEYS
    (known_dir / ENCODINGS_SPKI_FILE).write_bytes(spki_key.spki_pem())
    certificate_key, x509_certificate = certificate
    (known_dir / ENCODINGS_CERT_FILE).write_bytes(
        enc.certificate_bytes(x509_certificate, serialization.Encoding.PEM)
    )
    jwks = {"keys": [jwk(key, kid) for key, kid in jwks_keys]}
    (known_dir / ENCODINGS_JWKS_FILE).write_text(json.dumps(jwks, indent=2) + "\n", "ascii")
    openssh_key, comment = ssh_key
    (known_dir / ENCODINGS_SSH_FILE).write_bytes(public_key_line(openssh_key, comment))
    return [
        entry(ENCODINGS_SPKI_FILE, f"{KNOWN_KEYS}/{ENCODINGS_SPKI_FILE}#1", spki_key),
        certificate_entry(ENCODINGS_CERT_FILE, certificate_key, known_dir),
        *(entry(ENCODINGS_JWKS_FILE, kid, key) for key, kid in jwks_keys),
        entry(ENCODINGS_SSH_FILE, comment, openssh_key),
    ]
