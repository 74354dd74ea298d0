"""Keys stage data: what detectors hand over, and what proving yields.

A `Payload` is the decoded structure a detector cut out of memory (DER bytes,
an OpenSSH blob, ...).  `prove(payload)` in `scanner.keys.prove` parses it with
`cryptography`, checks the arithmetic and returns a `Key`, which holds no key
material at all: only kind, algorithm, size and the fingerprint (SHA-256 of the
DER SubjectPublicKeyInfo).  Payload bytes are excluded from repr so they never
reach a log line or a traceback.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class PayloadKind(enum.Enum):
    """Structures a detector can hand to the prover."""

    PKCS1_PRIVATE = "pkcs1-private"  # RFC 8017 A.1.2 RSAPrivateKey (DER)
    PKCS8_PRIVATE = "pkcs8-private"  # RFC 5208/5958 PrivateKeyInfo / OneAsymmetricKey (DER)
    SEC1_PRIVATE = "sec1-private"  # RFC 5915 ECPrivateKey (DER)
    DSA_PRIVATE = "dsa-private"  # OpenSSL traditional DSAPrivateKey (DER)
    ENCRYPTED_PKCS8 = "encrypted-pkcs8"  # RFC 5208 EncryptedPrivateKeyInfo (DER)
    LEGACY_ENCRYPTED_PEM = "legacy-encrypted-pem"  # RFC 1421 Proc-Type/DEK-Info body (DER)
    OPENSSH_PRIVATE = "openssh-private"  # PROTOCOL.key openssh-key-v1 blob
    # An encrypted key stored beside its public half in the clear (PuTTY PPK,
    # OpenPGP Secret-Key packet): the SPKI (DER) of that public half.
    ENCRYPTED_SPKI = "encrypted-spki"
    SPKI = "spki"  # RFC 5280 SubjectPublicKeyInfo (DER)
    PKCS1_PUBLIC = "pkcs1-public"  # RFC 8017 A.1.1 RSAPublicKey (DER)
    X509_CERTIFICATE = "x509-certificate"  # RFC 5280 Certificate (DER)
    # Raw numbers found through a known public key (public_spki says which):
    RSA_FACTOR = "rsa-factor"  # a prime factor of the known modulus, big-endian bytes
    EC_SCALAR = "ec-scalar"  # the private scalar d of the known point, big-endian bytes
    ECX_SEED = "ecx-seed"  # the Ed25519/X25519/Ed448/X448 private key bytes (RFC 8032/7748)
    # Keystores, cut out whole; scanner.keys.keystore opens them with the scan's passwords:
    PKCS12 = "pkcs12"  # RFC 7292 PFX (BER)
    JKS = "jks"  # Sun JavaKeyStore, magic 0xFEEDFEED
    JCEKS = "jceks"  # SunJCE JceKeyStore, magic 0xCECECECE


@dataclass(frozen=True)
class Payload:
    """Decoded bytes of one candidate structure.

    algorithm_hint: the algorithm a PEM label names ("RSA", "EC", "DSA") when
    the payload itself cannot say (legacy encrypted PEM).
    public_spki: for raw numbers, the DER SubjectPublicKeyInfo of the known key
    they belong to; the prover rebuilds the private key from both.
    """

    kind: PayloadKind
    data: bytes = field(repr=False)
    algorithm_hint: str | None = None
    public_spki: bytes | None = field(default=None, repr=False)


class KeyKind(enum.Enum):
    PRIVATE = "private-key"
    ENCRYPTED = "encrypted-private-key"
    PUBLIC = "public-key"
    CERTIFICATE = "certificate"
    KEYSTORE = "keystore"  # a PKCS#12, JKS or JCEKS store; its keys are findings of their own


@dataclass(frozen=True)
class Key:
    """A proven key: no material, only what a report may show.

    fingerprint: "sha256:" + hex SHA-256 of the DER SubjectPublicKeyInfo, None
    when unknowable (an encrypted key whose public half is not stored beside it).
    """

    kind: KeyKind
    algorithm: str | None
    bits: int | None
    curve: str | None
    fingerprint: str | None


@dataclass(frozen=True)
class KnownKey:
    """A public key given with --known-keys.

    id: the JWK `kid`, the certificate subject, or "<file>#<index>".
    source: the file it came from (and line, where the format has lines).
    """

    id: str
    source: str
    fingerprint: str
    algorithm: str
    bits: int | None
