"""Issue #4's key encodings: one planted file each, also held by the encodings holder.

Every encoding gets its own fresh key, so a fingerprint names the encoding
it was planted in (the python-encodings core and the container hold the
same structures).  Text sits on its own lines in a log-text background, as
catalogue.py does; binary structures sit in random or zero backgrounds.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from samplegen import encodings as enc
from samplegen import keys
from samplegen import text_encodings as text
from samplegen import tool_encodings as tools
from samplegen import windows_blobs as blobs
from samplegen.catalogue import RANDOM, TEXT, ZEROS, Catalogue
from samplegen.keys import ENCRYPTED, KEYSTORE, PRIVATE, KeyFact, SampleKey
from samplegen.planted import Background, Plant

JWK_KID = "planted-jwk-rsa"
PPK_COMMENT = "dumpguard-known-ppk-ed25519"
PKCS12_COMMON_NAME = "dumpguard known pkcs12"
WORK_DIR = "work-encodings"  # under keys/ (mode 0700): tool inputs and outputs, removed after


def add_encoding_files(catalogue: Catalogue) -> None:
    work_dir = catalogue.keys_dir / WORK_DIR
    work_dir.mkdir(mode=0o700)
    try:
        add_text_files(catalogue)
        add_json_files(catalogue)
        add_windows_files(catalogue)
        add_ppk_files(catalogue, work_dir)
        add_openpgp_files(catalogue)
        add_keystore_files(catalogue, work_dir)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


@dataclass(frozen=True)
class Sample:
    """A planted file: its name, what it holds, its background, how the holder keeps it."""

    name: str
    description: str
    background: Background
    as_text: bool


def plant(
    catalogue: Catalogue, sample: Sample, written: text.Written, facts: list[KeyFact]
) -> None:
    """Plant `written`, one fact per anchor; text on a text background gets its own lines."""
    data, shift = written.data, 0
    if sample.background is TEXT:
        data, shift = b"\n" + data + b"\n", 1
    anchors = [shift + anchor for anchor in written.anchors]
    anchors += [anchors[0]] * (len(facts) - len(anchors))  # a store's keys: at the store
    also = tuple(zip(anchors[1:], facts[1:], strict=True))
    planted = Plant(data, facts[0], anchors[0], also)
    catalogue.add_held(sample.name, sample.description, sample.background, planted, sample.as_text)


def whole(data: bytes) -> text.Written:
    """Bytes whose first byte starts the structure."""
    return text.Written(data)


def rsa_of(key: SampleKey) -> rsa.RSAPrivateKey:
    assert isinstance(key.private_key, rsa.RSAPrivateKey)
    return key.private_key


def ec_of(key: SampleKey) -> ec.EllipticCurvePrivateKey:
    assert isinstance(key.private_key, ec.EllipticCurvePrivateKey)
    return key.private_key


def add_text_files(catalogue: Catalogue) -> None:
    utf16_key = catalogue.key("pem-utf16be", "EC-P256")
    plant(
        catalogue,
        Sample(
            "pem-utf16be.bin",
            "PEM PKCS#8 (EC P-256) as UTF-16BE text (a Java char[]), then a 0x01 byte",
            RANDOM,
            as_text=False,
        ),
        text.utf16be_pem(utf16_key.pkcs8_pem()),
        [utf16_key.fact()],
    )
    base64_key = catalogue.key("base64-der-pkcs8-rsa", "RSA-2048")
    catalogue.known.encodings.spki_pem = base64_key
    plant(
        catalogue,
        Sample(
            "base64-der-pkcs8-rsa.bin",
            "PKCS#8 DER (RSA-2048) as one base64 value in an environment block, no armour",
            TEXT,
            as_text=True,
        ),
        text.base64_der_env(base64_key),
        [base64_key.fact()],
    )
    url_key = catalogue.key("base64url-der-pkcs8-ec", "EC-P384")
    plant(
        catalogue,
        Sample(
            "base64url-der-pkcs8-ec.bin",
            "PKCS#8 DER (EC P-384) as unpadded base64url in a JSON secret, no armour",
            ZEROS,
            as_text=True,
        ),
        text.base64url_der_json(url_key),
        [url_key.fact()],
    )


def add_json_files(catalogue: Catalogue) -> None:
    jwk_key = catalogue.key("jwk-rsa", "RSA-2048")
    catalogue.known.encodings.jwks.append((jwk_key, JWK_KID))
    plant(
        catalogue,
        Sample(
            "jwk-rsa.bin", "private JWK file (RSA-2048, json.dumps indent=2)", TEXT, as_text=True
        ),
        text.jwk_file(jwk_key, "sample-jwk-rsa"),
        [jwk_key.fact()],
    )
    escaped_key = catalogue.key("jwk-escaped-ec", "EC-P256")
    plant(
        catalogue,
        Sample(
            "jwk-escaped-ec.bin",
            'private JWK (EC P-256) escaped inside a JSON config string ({\\"kty\\": ...)',
            RANDOM,
            as_text=True,
        ),
        text.escaped_jwk_config(escaped_key, "sample-jwk-escaped"),
        [escaped_key.fact()],
    )
    jwks_keys = [catalogue.key("jwks-ec", "EC-P384"), catalogue.key("jwks-ed25519", "Ed25519")]
    plant(
        catalogue,
        Sample(
            "jwks-private.bin",
            "JWKS of two private JWKs (EC P-384, Ed25519): one finding per key object",
            ZEROS,
            as_text=True,
        ),
        text.jwks_document([(key, f"sample-{key.name}") for key in jwks_keys]),
        [key.fact() for key in jwks_keys],
    )


def add_windows_files(catalogue: Catalogue) -> None:
    xml_key = catalogue.key("dotnet-xml-rsa", "RSA-2048")
    xml = blobs.rsa_key_value_xml(blobs.rsa_key_value_elements(rsa_of(xml_key), private=True))
    plant(
        catalogue,
        Sample(
            "dotnet-xml-rsa.bin",
            ".NET RSAKeyValue XML with private elements (RSA.ToXmlString(true) form, RSA-2048)",
            TEXT,
            as_text=True,
        ),
        whole(xml.encode("ascii")),
        [xml_key.fact()],
    )
    wide_key = catalogue.key("dotnet-xml-utf16le", "RSA-2048")
    wide = blobs.rsa_key_value_xml(blobs.rsa_key_value_elements(rsa_of(wide_key), private=True))
    plant(
        catalogue,
        Sample(
            "dotnet-xml-utf16le.bin",
            ".NET RSAKeyValue XML as UTF-16LE (a .NET string in memory, RSA-2048)",
            RANDOM,
            as_text=False,
        ),
        whole(wide.encode("utf-16-le")),
        [wide_key.fact()],
    )
    add_binary(
        catalogue,
        Sample(
            "cng-rsa2.bin",
            "CNG BCRYPT_RSAKEY_BLOB, magic RSA2 (BCRYPT_RSAPRIVATE_BLOB, RSA-2048)",
            RANDOM,
            as_text=False,
        ),
        "RSA-2048",
        lambda key: blobs.cng_rsa_blob(rsa_of(key), blobs.CngRsaMagic.PRIVATE),
    )
    add_binary(
        catalogue,
        Sample(
            "cng-rsa3.bin",
            "CNG BCRYPT_RSAKEY_BLOB, magic RSA3 (BCRYPT_RSAFULLPRIVATE_BLOB, RSA-2048)",
            ZEROS,
            as_text=False,
        ),
        "RSA-2048",
        lambda key: blobs.cng_rsa_blob(rsa_of(key), blobs.CngRsaMagic.FULL_PRIVATE),
    )
    add_binary(
        catalogue,
        Sample(
            "cng-ecc-private.bin",
            "CNG BCRYPT_ECCPRIVATE_BLOB, magic ECS2 (ECDSA P-256)",
            RANDOM,
            as_text=False,
        ),
        "EC-P256",
        lambda key: blobs.cng_ecc_blob(ec_of(key), private=True, ecdh=False),
    )
    add_binary(
        catalogue,
        Sample(
            "capi-privatekeyblob.bin",
            "CryptoAPI PRIVATEKEYBLOB (CALG_RSA_KEYX, little-endian numbers, RSA-2048)",
            RANDOM,
            as_text=False,
        ),
        "RSA-2048",
        lambda key: blobs.capi_rsa_blob(rsa_of(key), private=True),
    )


def add_binary(
    catalogue: Catalogue, sample: Sample, algorithm: str, write: Callable[[SampleKey], bytes]
) -> None:
    key = catalogue.key(sample.name.removesuffix(".bin"), algorithm)
    plant(catalogue, sample, whole(write(key)), [key.fact()])


def add_ppk_files(catalogue: Catalogue, work_dir: Path) -> None:
    """PPK files written by the real puttygen from OpenSSH-format keys."""
    rsa_key = catalogue.key("ppk-v2-rsa", "RSA-2048")
    plant(
        catalogue,
        Sample(
            "ppk-v2-rsa.bin",
            "PuTTY PPK version 2, unencrypted (puttygen, RSA-2048)",
            TEXT,
            as_text=True,
        ),
        whole(tools.puttygen_ppk(rsa_key, work_dir, version=2, encrypted=False)),
        [rsa_key.fact()],
    )
    ed_key = catalogue.key("ppk-v3-ed25519", "Ed25519")
    catalogue.known.encodings.authorized_keys = (ed_key, PPK_COMMENT)
    plant(
        catalogue,
        Sample(
            "ppk-v3-ed25519.bin",
            "PuTTY PPK version 3, unencrypted (puttygen, Ed25519)",
            ZEROS,
            as_text=True,
        ),
        whole(tools.puttygen_ppk(ed_key, work_dir, version=3, encrypted=False)),
        [ed_key.fact()],
    )
    encrypted_key = catalogue.key("ppk-v3-encrypted", "EC-P256")
    plant(
        catalogue,
        Sample(
            "ppk-v3-encrypted.bin",
            "PuTTY PPK version 3 with a passphrase (puttygen, Argon2id, ECDSA P-256; "
            "public half in clear)",
            RANDOM,
            as_text=True,
        ),
        whole(tools.puttygen_ppk(encrypted_key, work_dir, version=3, encrypted=True)),
        [encrypted_key.fact(ENCRYPTED)],
    )


def add_openpgp_files(catalogue: Catalogue) -> None:
    """OpenPGP secret keys generated by the real gpg (v4 keys, primary key only)."""
    with tools.gpg_home() as gpg:
        armored = gpg.make("openpgp-armored", "ed25519", armored=True, protected=False)
        binary = gpg.make("openpgp-binary", "nistp256", armored=False, protected=True)
    plant(
        catalogue,
        Sample(
            "openpgp-armored.bin",
            "OpenPGP PRIVATE KEY BLOCK, armored, unprotected (gpg, Ed25519)",
            TEXT,
            as_text=True,
        ),
        whole(armored.exported),
        [keys.public_fact(armored.public_key, PRIVATE)],
    )
    plant(
        catalogue,
        Sample(
            "openpgp-binary-protected.bin",
            "OpenPGP secret key packets, binary, passphrase-protected (gpg, ECDSA P-256)",
            RANDOM,
            as_text=False,
        ),
        whole(binary.exported),
        [keys.public_fact(binary.public_key, ENCRYPTED)],
    )


def add_keystore_files(catalogue: Catalogue, work_dir: Path) -> None:
    """A PKCS#12 made by openssl pkcs12 and a JKS made by keytool, both with "changeit"."""
    pkcs12_key = catalogue.key("pkcs12-changeit", "RSA-2048")
    certificate = enc.self_signed_certificate(pkcs12_key, PKCS12_COMMON_NAME)
    catalogue.known.encodings.certificate = (pkcs12_key, certificate)
    pkcs12_path = tools.openssl_pkcs12(
        pkcs12_key.file_in(catalogue.keys_dir), certificate, work_dir
    )
    plant(
        catalogue,
        Sample(
            "pkcs12-changeit.bin",
            "PKCS#12 (openssl pkcs12 -export, password changeit, RSA-2048 key and certificate)",
            ZEROS,
            as_text=False,
        ),
        whole(pkcs12_path.read_bytes()),
        [KeyFact(KEYSTORE, None, None), pkcs12_key.fact()],
    )
    jks_key = catalogue.key("jks-changeit", "EC-P256")
    jks_certificate = enc.self_signed_certificate(jks_key, "dumpguard sample jks")
    jks_source = tools.openssl_pkcs12(
        jks_key.file_in(catalogue.keys_dir), jks_certificate, work_dir
    )
    plant(
        catalogue,
        Sample(
            "jks-changeit.bin",
            "JKS (keytool -importkeystore, password changeit, EC P-256 key and certificate)",
            RANDOM,
            as_text=False,
        ),
        whole(tools.keytool_jks(jks_source, work_dir)),
        [KeyFact(KEYSTORE, None, None), jks_key.fact()],
    )
