"""What gets planted where: one planted file per key encoding dumpguard detects.

Every key is fresh.  `Catalogue.known` records which planted keys have their
public half in the known-keys directory (see known_keys.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from samplegen import encodings as enc
from samplegen import keys
from samplegen.keys import CERTIFICATE, ENCRYPTED, PUBLIC, KeyFact, SampleKey
from samplegen.planted import Background, Plant, PlantedFile

RANDOM, ZEROS, TEXT = Background.RANDOM, Background.ZEROS, Background.TEXT
Encoding, PrivateFormat = enc.Encoding, enc.PrivateFormat

# Strings a real process keeps in read-only data or as constants (libcrypto's PEM
# labels, cryptography's ssh.py constants and its armor regex), seen in the clean
# Python control's core.  None is a key: a scan must report nothing for them.
RODATA_STRINGS = (
    b"-----BEGIN RSA PRIVATE KEY-----\x00" + bytes(64),
    b"-----BEGIN PRIVATE KEY-----\x00\x00\x00\x00\x00",
    b"-----BEGIN EC PRIVATE KEY-----\x00-----END EC PRIVATE KEY-----\x00",
    b"-----BEGIN OPENSSH PRIVATE KEY-----(.*?)-----END OPENSSH PRIVATE KEY-----\x00",
    b"openssh-key-v1\x00" + bytes(48),
    enc.utf16le(b"-----BEGIN RSA PRIVATE KEY-----") + bytes(32),
)


@dataclass
class EncodingKnownSources:
    """The issue #4 encoding samples' known keys (known_keys.write_encoding_known_keys)."""

    spki_pem: SampleKey | None = None
    certificate: tuple[SampleKey, x509.Certificate] | None = None
    jwks: list[tuple[SampleKey, str]] = field(default_factory=list)
    authorized_keys: tuple[SampleKey, str] | None = None


@dataclass
class KnownSources:
    """Keys whose public halves go into known-keys/, by the form they are given in."""

    spki_pem: SampleKey | None = None
    certificate: SampleKey | None = None
    jwks: list[SampleKey] = field(default_factory=list)
    authorized_keys: SampleKey | None = None
    encodings: EncodingKnownSources = field(default_factory=EncodingKnownSources)


@dataclass(frozen=True)
class Held:
    """A planted structure the encodings holder also keeps in memory (dumps/python-encodings).

    as_text: the holder keeps it as a str (a config value, a key file's text),
    else as bytes (a binary blob, UTF-16 text, a keystore file).
    """

    name: str
    data: bytes = field(repr=False)
    as_text: bool
    facts: tuple[KeyFact, ...]


@dataclass
class Catalogue:
    keys_dir: Path
    quick: bool
    known: KnownSources = field(default_factory=KnownSources)
    files: list[PlantedFile] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)

    def key(self, name: str, algorithm: str) -> SampleKey:
        return keys.generate(name, algorithm, self.keys_dir)

    def add(self, name: str, description: str, background: Background, *plants: Plant) -> None:
        self.files.append(PlantedFile(name, description, background, plants))

    def add_held(
        self, name: str, description: str, background: Background, plant: Plant, as_text: bool
    ) -> None:
        """A planted file whose structure the encodings holder keeps in memory too."""
        self.add(name, description, background, plant)
        facts = tuple(fact for _, fact in plant.facts())
        self.held.append(Held(name.removesuffix(".bin"), plant.data, as_text, facts))

    def add_text(self, name: str, description: str, data: bytes, fact: KeyFact) -> None:
        """Text in a text background sits on its own lines, as in a log or config file."""
        self.add(name, description, TEXT, Plant(b"\n" + data + b"\n", fact, anchor=1))


def build_catalogue(keys_dir: Path, quick: bool) -> Catalogue:
    catalogue = Catalogue(keys_dir, quick)
    add_pem_files(catalogue)
    add_pkcs8_pem_files(catalogue)
    add_encrypted_files(catalogue)
    add_text_variants(catalogue)
    add_der_files(catalogue)
    add_openssh_files(catalogue)
    add_public_files(catalogue)
    catalogue.add(
        "rodata-false-positive.bin",
        "bare PEM headers and magics followed by NULs, as in library rodata: no key",
        ZEROS,
        *(Plant(text, None) for text in RODATA_STRINGS),
    )
    return catalogue


def add_pem_files(catalogue: Catalogue) -> None:
    rsa_key = catalogue.key("pem-pkcs1-rsa", "RSA-2048")
    catalogue.known.spki_pem = rsa_key
    catalogue.add_text(
        "pem-pkcs1-rsa.bin",
        "PEM PKCS#1 RSA PRIVATE KEY (RSA-2048)",
        rsa_key.encode(Encoding.PEM, PrivateFormat.TraditionalOpenSSL),
        rsa_key.fact(),
    )
    ec_key = catalogue.key("pem-sec1-ec", "EC-P256")
    catalogue.add(
        "pem-sec1-ec.bin",
        "PEM SEC1 EC PRIVATE KEY (P-256)",
        RANDOM,
        Plant(ec_key.encode(Encoding.PEM, PrivateFormat.TraditionalOpenSSL), ec_key.fact()),
    )
    dsa_key = catalogue.key("pem-dsa-traditional", "DSA-2048")
    catalogue.add(
        "pem-dsa-traditional.bin",
        "PEM DSA PRIVATE KEY (OpenSSL traditional)",
        ZEROS,
        Plant(dsa_key.encode(Encoding.PEM, PrivateFormat.TraditionalOpenSSL), dsa_key.fact()),
    )


PKCS8_PEM_FILES = (
    ("pem-pkcs8-rsa.bin", "RSA-2048", RANDOM),
    ("pem-pkcs8-ec-p384.bin", "EC-P384", ZEROS),
    ("pem-pkcs8-ed25519.bin", "Ed25519", TEXT),
    ("pem-pkcs8-x25519.bin", "X25519", RANDOM),
    ("pem-pkcs8-ed448.bin", "Ed448", ZEROS),
    ("pem-pkcs8-x448.bin", "X448", TEXT),
    ("pem-pkcs8-dsa.bin", "DSA-2048", RANDOM),
)


def add_pkcs8_pem_files(catalogue: Catalogue) -> None:
    files = list(PKCS8_PEM_FILES)
    if not catalogue.quick:
        files.append(("pem-pkcs8-rsa4096.bin", "RSA-4096", RANDOM))
    for file_name, algorithm, background in files:
        key = catalogue.key(file_name.removesuffix(".bin"), algorithm)
        description = f"PEM PKCS#8 PRIVATE KEY ({algorithm})"
        if background is TEXT:
            catalogue.add_text(file_name, description, key.pkcs8_pem(), key.fact())
        else:
            catalogue.add(file_name, description, background, Plant(key.pkcs8_pem(), key.fact()))
        if algorithm == "EC-P384":
            catalogue.known.certificate = key
        if algorithm == "Ed25519":
            catalogue.known.jwks.append(key)


def add_encrypted_files(catalogue: Catalogue) -> None:
    # Neither form stores the public half, so no fingerprint is knowable from the sample;
    # a legacy PEM still names its algorithm in the label (RSA PRIVATE KEY).
    pkcs8_path = catalogue.key("pem-pkcs8-encrypted", "RSA-2048").file_in(catalogue.keys_dir)
    encrypted_pkcs8 = enc.openssl_encrypted_pkcs8(pkcs8_path, der=False)
    catalogue.add(
        "pem-pkcs8-encrypted.bin",
        "PEM ENCRYPTED PRIVATE KEY (openssl pkcs8 -topk8 -v2 aes-256-cbc, RSA-2048)",
        ZEROS,
        Plant(encrypted_pkcs8, KeyFact(ENCRYPTED, None, None)),
    )
    legacy_path = catalogue.key("pem-legacy-encrypted", "RSA-2048").file_in(catalogue.keys_dir)
    catalogue.add_text(
        "pem-legacy-encrypted.bin",
        "legacy encrypted PEM RSA PRIVATE KEY, Proc-Type/DEK-Info (openssl rsa -aes128)",
        enc.openssl_legacy_encrypted_rsa(legacy_path),
        KeyFact(ENCRYPTED, "RSA", None),
    )


def add_text_variants(catalogue: Catalogue) -> None:
    utf16_key = catalogue.key("pem-utf16le", "EC-P256")
    catalogue.add(
        "pem-utf16le.bin",
        "PEM PKCS#8 (EC P-256) as UTF-16LE text",
        RANDOM,
        Plant(enc.utf16le(utf16_key.pkcs8_pem()), utf16_key.fact()),
    )
    crlf_key = catalogue.key("pem-crlf", "RSA-2048")
    catalogue.add_text(
        "pem-crlf.bin",
        "PEM PKCS#8 (RSA-2048) with CRLF line ends",
        enc.crlf(crlf_key.pkcs8_pem()),
        crlf_key.fact(),
    )
    yaml_key = catalogue.key("pem-indented", "EC-P384")
    yaml = enc.yaml_block(yaml_key.encode(Encoding.PEM, PrivateFormat.TraditionalOpenSSL))
    catalogue.add(
        "pem-indented.bin",
        "PEM SEC1 (EC P-384) indented six spaces in a YAML block",
        TEXT,
        Plant(yaml, yaml_key.fact(), anchor=yaml.index(b"-----BEGIN")),
    )
    json_key = catalogue.key("pem-json-escaped", "RSA-2048")
    config = enc.json_config(json_key.pkcs8_pem())
    catalogue.add(
        "pem-json-escaped.bin",
        'PEM PKCS#8 (RSA-2048) JSON-escaped ("\\n") in a config',
        TEXT,
        Plant(config, json_key.fact(), anchor=config.index(b"-----BEGIN")),
    )


DER_FILES = (
    (
        "der-pkcs1-rsa.bin",
        "DER PKCS#1 RSAPrivateKey (RSA-2048)",
        "RSA-2048",
        PrivateFormat.TraditionalOpenSSL,
    ),
    (
        "der-pkcs8-ec-p256.bin",
        "DER PKCS#8 PrivateKeyInfo (EC P-256)",
        "EC-P256",
        PrivateFormat.PKCS8,
    ),
    (
        "der-pkcs8-ed25519.bin",
        "DER PKCS#8 OneAsymmetricKey (Ed25519)",
        "Ed25519",
        PrivateFormat.PKCS8,
    ),
    (
        "der-sec1-ec-p384.bin",
        "DER SEC1 ECPrivateKey (EC P-384)",
        "EC-P384",
        PrivateFormat.TraditionalOpenSSL,
    ),
    (
        "der-dsa.bin",
        "DER DSAPrivateKey (OpenSSL traditional, DSA-2048)",
        "DSA-2048",
        PrivateFormat.TraditionalOpenSSL,
    ),
)


def add_der_files(catalogue: Catalogue) -> None:
    for file_name, description, algorithm, private_format in DER_FILES:
        key = catalogue.key(file_name.removesuffix(".bin"), algorithm)
        catalogue.add(
            file_name,
            description,
            RANDOM,
            Plant(key.encode(Encoding.DER, private_format), key.fact()),
        )
    encrypted_path = catalogue.key("der-encrypted-pkcs8", "EC-P256").file_in(catalogue.keys_dir)
    encrypted_der = enc.openssl_encrypted_pkcs8(encrypted_path, der=True)
    catalogue.add(
        "der-encrypted-pkcs8.bin",
        "DER EncryptedPrivateKeyInfo (openssl pkcs8 -topk8 -v2 aes-256-cbc, EC P-256)",
        RANDOM,
        Plant(encrypted_der, KeyFact(ENCRYPTED, None, None)),
    )


def add_openssh_files(catalogue: Catalogue) -> None:
    plain_key = catalogue.key("pem-openssh", "Ed25519")
    catalogue.known.authorized_keys = plain_key
    catalogue.add_text(
        "pem-openssh.bin",
        "OPENSSH PRIVATE KEY, unencrypted (Ed25519)",
        enc.openssh_pem(plain_key),
        plain_key.fact(),
    )
    encrypted_pem, public_key = enc.ssh_keygen_encrypted(
        catalogue.keys_dir, "pem-openssh-encrypted"
    )
    catalogue.add(
        "pem-openssh-encrypted.bin",
        "OPENSSH PRIVATE KEY with a passphrase (ssh-keygen, ECDSA P-384; public half in clear)",
        ZEROS,
        Plant(encrypted_pem, keys.public_fact(public_key, ENCRYPTED)),
    )
    raw_key = catalogue.key("openssh-raw-blob", "EC-P256")
    catalogue.add(
        "openssh-raw-blob.bin",
        "binary openssh-key-v1 blob, unarmored (ECDSA P-256)",
        RANDOM,
        Plant(enc.openssh_blob(raw_key), raw_key.fact()),
    )
    base64_key = catalogue.key("openssh-base64-blob", "RSA-2048")
    catalogue.add_text(
        "openssh-base64-blob.bin",
        "openssh-key-v1 blob as one unwrapped base64 line, no armor (RSA-2048)",
        enc.pem_body(enc.openssh_pem(base64_key)),
        base64_key.fact(),
    )


def add_public_files(catalogue: Catalogue) -> None:
    pem_cert_key = catalogue.key("cert-pem", "RSA-2048")
    pem_cert = enc.self_signed_certificate(pem_cert_key, "dumpguard sample cert-pem")
    catalogue.add_text(
        "cert-pem.bin",
        "PEM CERTIFICATE (self-signed, RSA-2048)",
        enc.certificate_bytes(pem_cert, Encoding.PEM),
        certificate_fact(pem_cert.public_key()),
    )
    der_cert_key = catalogue.key("cert-der", "EC-P256")
    der_cert = enc.self_signed_certificate(der_cert_key, "dumpguard sample cert-der")
    catalogue.add(
        "cert-der.bin",
        "DER certificate (self-signed, EC P-256)",
        RANDOM,
        Plant(
            enc.certificate_bytes(der_cert, Encoding.DER), certificate_fact(der_cert.public_key())
        ),
    )
    public_key = catalogue.key("public-key-pem", "Ed448")
    catalogue.add_text(
        "public-key-pem.bin",
        "PEM PUBLIC KEY (SubjectPublicKeyInfo, Ed448): info",
        public_key.spki_pem(),
        public_key.fact(PUBLIC),
    )


def certificate_fact(public_key: PublicKeyTypes) -> KeyFact:
    return keys.public_fact(public_key, CERTIFICATE)
