"""Independent readers of issue #4's planted encodings, for tests/samples only.

Each reads the structure a planted file holds at a manifest offset with
`cryptography` and the published layout, never with dumpguard's code, and
returns what a scan must report there: {(kind, fingerprint)}.  Private
encodings are proven (the private numbers give the stated public key);
encrypted ones give the public half they store in clear.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

PRIVATE, ENCRYPTED, KEYSTORE = "private-key", "encrypted-private-key", "keystore"
KEYSTORE_PASSWORD = "changeit"
Found = set[tuple[str, str | None]]
JWK_CURVES = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}


def spki_fingerprint(public_key: PublicKeyTypes) -> str:
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(spki).hexdigest()


def private(private_key: PrivateKeyTypes) -> Found:
    return {(PRIVATE, spki_fingerprint(private_key.public_key()))}


def rsa_from_factors(n: int, e: int, p: int, q: int, d: int | None = None) -> rsa.RSAPrivateKey:
    """The RSA key of n = p * q (RFC 8017 3.2); a stated d must invert e modulo
    lcm(p - 1, q - 1), the CRT values are computed here."""
    assert p * q == n
    lambda_n = math.lcm(p - 1, q - 1)
    if d is None:
        d = pow(e, -1, lambda_n)
    assert d * e % lambda_n == 1
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), rsa.RSAPublicNumbers(e, n)
    )
    return numbers.private_key()


def der_length(data: bytes, offset: int = 0) -> tuple[int, int]:
    """(header length, content length) of the DER TLV at `offset` (X.690 8.1.3)."""
    first = data[offset + 1]
    if first < 0x80:
        return 2, first
    count = first & 0x7F
    return 2 + count, int.from_bytes(data[offset + 2 : offset + 2 + count], "big")


# --- text -----------------------------------------------------------------------------------


def utf16be_pem(data: bytes) -> Found:
    end = data.index("-----END".encode("utf-16-be"))
    close = data.index("-----".encode("utf-16-be"), end + 16) + 10
    text = data[:close].decode("utf-16-be").encode("ascii") + b"\n"
    return private(serialization.load_pem_private_key(text, password=None))


def base64_der(data: bytes) -> Found:
    run = re.match(rb"[A-Za-z0-9+/_-]+", data)
    assert run is not None
    text = run.group().translate(bytes.maketrans(b"-_", b"+/"))
    der = base64.b64decode(text + b"=" * (-len(text) % 4))
    return private(serialization.load_der_private_key(der, password=None))


def jwk_number(members: dict[str, str], name: str) -> int:
    text = members[name]
    return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")


def jwk_key(members: dict[str, str]) -> PrivateKeyTypes:
    """RFC 7518 6.2.2 / 6.3.2 and RFC 8037 2, from the members a planted JWK holds."""
    if members["kty"] == "RSA":
        n, e = jwk_number(members, "n"), jwk_number(members, "e")
        p, q, d = (jwk_number(members, name) for name in ("p", "q", "d"))
        return rsa_from_factors(n, e, p, q, d)
    if members["kty"] == "EC":
        key = ec.derive_private_key(jwk_number(members, "d"), JWK_CURVES[members["crv"]])
        point = key.public_key().public_numbers()
        assert (point.x, point.y) == (jwk_number(members, "x"), jwk_number(members, "y"))
        return key
    assert (members["kty"], members["crv"]) == ("OKP", "Ed25519")
    seed = base64.urlsafe_b64decode(members["d"] + "=" * (-len(members["d"]) % 4))
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed)


def jwk(data: bytes) -> Found:
    members, _ = json.JSONDecoder().raw_decode(data.decode("latin-1"))
    return private(jwk_key(members))


def escaped_jwk(data: bytes) -> Found:
    """{\\"kty\\": ...} inside a JSON string: unescape the string, then read the JWK."""
    text = data[: data.index(b"}") + 1].decode("ascii")
    return private(jwk_key(json.loads(json.loads('"' + text + '"'))))


def dotnet_xml(data: bytes, encoding: str) -> Found:
    width = 2 if encoding == "utf-16-le" else 1
    end = data.index("</RSAKeyValue>".encode(encoding)) + len("</RSAKeyValue>") * width
    text = data[:end].decode(encoding)
    values = {
        name: int.from_bytes(base64.b64decode(value), "big")
        for name, value in re.findall(r"<(\w+)>([^<]*)</\1>", text)
    }
    n, e = values["Modulus"], values["Exponent"]
    return private(rsa_from_factors(n, e, values["P"], values["Q"], values["D"]))


# --- Windows blobs (bcrypt.h, "Base Provider Key BLOBs") -----------------------------------


def little_endian_words(data: bytes, offset: int, count: int) -> list[int]:
    return [
        int.from_bytes(data[offset + 4 * i : offset + 4 * i + 4], "little") for i in range(count)
    ]


def cng_rsa(data: bytes) -> Found:
    """BCRYPT_RSAKEY_BLOB: Magic, BitLength, cbPublicExp, cbModulus, cbPrime1, cbPrime2; then
    exponent, modulus, prime1, prime2, big-endian."""
    assert data[:4] in (b"RSA2", b"RSA3")
    _, exponent_size, modulus_size, prime1_size, prime2_size = little_endian_words(data, 4, 5)
    fields, position = [], 24
    for size in (exponent_size, modulus_size, prime1_size, prime2_size):
        fields.append(int.from_bytes(data[position : position + size], "big"))
        position += size
    e, n, p, q = fields
    return private(rsa_from_factors(n, e, p, q))


def cng_ecc(data: bytes) -> Found:
    """BCRYPT_ECCKEY_BLOB: dwMagic ECS2 (ECDSA P-256 private), cbKey; then X, Y, d big-endian."""
    assert data[:4] == b"ECS2"
    (size,) = little_endian_words(data, 4, 1)
    x, y, d = (int.from_bytes(data[8 + i * size : 8 + (i + 1) * size], "big") for i in range(3))
    key = ec.derive_private_key(d, ec.SECP256R1())
    assert (key.public_key().public_numbers().x, key.public_key().public_numbers().y) == (x, y)
    return private(key)


def capi_rsa(data: bytes) -> Found:
    """PRIVATEKEYBLOB: BLOBHEADER (bType 7), RSAPUBKEY (RSA2, bitlen, pubexp), then modulus,
    prime1, prime2, ... little-endian."""
    assert data[0] == 0x07
    assert data[8:12] == b"RSA2"
    bit_length, e = little_endian_words(data, 12, 2)
    modulus_size, half = bit_length // 8, bit_length // 16
    n = int.from_bytes(data[20 : 20 + modulus_size], "little")
    p_start = 20 + modulus_size
    p = int.from_bytes(data[p_start : p_start + half], "little")
    q = int.from_bytes(data[p_start + half : p_start + 2 * half], "little")
    return private(rsa_from_factors(n, e, p, q))


# --- PuTTY PPK (PuTTY manual appendix C) -----------------------------------------------------


def ssh_fields(blob: bytes, count: int) -> list[bytes]:
    fields, position = [], 0
    for _ in range(count):
        size = int.from_bytes(blob[position : position + 4], "big")
        fields.append(blob[position + 4 : position + 4 + size])
        position += 4 + size
    return fields


def ppk_lines(lines: list[bytes], header: bytes) -> bytes:
    index = next(i for i, line in enumerate(lines) if line.startswith(header + b": "))
    count = int(lines[index].split(b": ")[1])
    return base64.b64decode(b"".join(lines[index + 1 : index + 1 + count]))


def ppk(data: bytes) -> Found:
    lines = data.split(b"\n", 64)
    public_blob = ppk_lines(lines, b"Public-Lines")
    (key_type,) = ssh_fields(public_blob, 1)
    public_key = serialization.load_ssh_public_key(key_type + b" " + base64.b64encode(public_blob))
    fingerprint = spki_fingerprint(public_key)
    if b"Encryption: none" not in lines[1]:
        return {(ENCRYPTED, fingerprint)}
    private_blob = ppk_lines(lines, b"Private-Lines")
    if isinstance(public_key, rsa.RSAPublicKey):
        numbers = public_key.public_numbers()
        d, p, q, _ = (int.from_bytes(f, "big") for f in ssh_fields(private_blob, 4))
        key: PrivateKeyTypes = rsa_from_factors(numbers.n, numbers.e, p, q, d)
    else:
        (seed,) = ssh_fields(private_blob, 1)
        key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    assert spki_fingerprint(key.public_key()) == fingerprint
    return {(PRIVATE, fingerprint)}


# --- OpenPGP (RFC 9580 4.2, 5.5.2, 5.5.3; RFC 4880bis EdDSA legacy) --------------------------

ED25519_LEGACY_OID = bytes.fromhex("2b06010401da470f01")
P256_OID = bytes.fromhex("2a8648ce3d030107")


def pgp_packet_body(data: bytes) -> bytes:
    """The body of the first packet, as GnuPG writes it (old format, 1- or 2-octet length)."""
    tag_octet = data[0]
    assert tag_octet & 0xC0 == 0x80
    length_size = 1 << (tag_octet & 3)
    length = int.from_bytes(data[1 : 1 + length_size], "big")
    return data[1 + length_size : 1 + length_size + length]


def read_mpi(body: bytes, position: int) -> tuple[bytes, int]:
    size = (int.from_bytes(body[position : position + 2], "big") + 7) // 8
    return body[position + 2 : position + 2 + size], position + 2 + size


def openpgp_binary(data: bytes) -> Found:
    """A v4 secret-key packet: version, time, algorithm, curve OID, public point, S2K usage."""
    body = pgp_packet_body(data)
    assert body[0] == 4
    algorithm, oid_size = body[5], body[6]
    oid, (point, position) = body[7 : 7 + oid_size], read_mpi(body, 7 + oid_size)
    if algorithm == 22:  # EdDSA (legacy): point 0x40 || 32-octet public key
        assert oid == ED25519_LEGACY_OID
        public_key: PublicKeyTypes = ed25519.Ed25519PublicKey.from_public_bytes(point[1:])
    else:
        assert (algorithm, oid) == (19, P256_OID)  # ECDSA
        public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    fingerprint = spki_fingerprint(public_key)
    if body[position] != 0:  # S2K usage: 0 is an unprotected secret key
        return {(ENCRYPTED, fingerprint)}
    secret, _ = read_mpi(body, position + 1)
    key = ed25519.Ed25519PrivateKey.from_private_bytes(secret.rjust(32, b"\x00"))
    assert spki_fingerprint(key.public_key()) == fingerprint
    return {(PRIVATE, fingerprint)}


def openpgp_armored(data: bytes) -> Found:
    block = data[: data.index(b"-----END PGP PRIVATE KEY BLOCK-----")]
    body_lines = block.split(b"\n\n", 1)[1].split(b"\n")
    body = b"".join(line for line in body_lines if line and not line.startswith(b"="))
    return openpgp_binary(base64.b64decode(body))


# --- keystores -------------------------------------------------------------------------------


def pkcs12_store(data: bytes) -> Found:
    header, length = der_length(data)
    key, _, _ = pkcs12.load_key_and_certificates(
        data[: header + length], KEYSTORE_PASSWORD.encode()
    )
    assert key is not None
    return {(KEYSTORE, None)} | private(key)


def jks_store(data: bytes) -> Found:
    """JKS: FEEDFEED, version 2, entry count; a key entry (tag 1) holds the alias, a time,
    the key as an EncryptedPrivateKeyInfo under Sun's KeyProtector, and its certificates."""
    assert data[:8] == b"\xfe\xed\xfe\xed\x00\x00\x00\x02"
    assert int.from_bytes(data[12:16], "big") == 1  # a private-key entry
    alias_size = int.from_bytes(data[16:18], "big")
    position = 18 + alias_size + 8
    key_size = int.from_bytes(data[position : position + 4], "big")
    protected = data[position + 4 : position + 4 + key_size]
    return {(KEYSTORE, None)} | private(sun_key_protector_open(protected))


def sun_key_protector_open(encrypted_info: bytes) -> PrivateKeyTypes:
    """sun.security.provider.KeyProtector: salt(20) || key XOR SHA-1 stream || SHA-1 check,
    where the stream is SHA-1(password UTF-16BE || previous digest), starting from the salt."""
    header, _ = der_length(encrypted_info)
    algorithm_header, algorithm_length = der_length(encrypted_info, header)
    octets_at = header + algorithm_header + algorithm_length
    octets_header, octets_length = der_length(encrypted_info, octets_at)
    start = octets_at + octets_header
    protected = encrypted_info[start : start + octets_length]
    salt, masked, check = protected[:20], protected[20:-20], protected[-20:]
    password = KEYSTORE_PASSWORD.encode("utf-16-be")
    stream, digest = b"", salt
    while len(stream) < len(masked):
        digest = hashlib.sha1(password + digest).digest()
        stream += digest
    plain = bytes(a ^ b for a, b in zip(masked, stream, strict=False))
    assert hashlib.sha1(password + plain).digest() == check
    return serialization.load_der_private_key(plain, password=None)


# --- by planted file ---------------------------------------------------------------------------

DECODERS: dict[str, Callable[[bytes], Found]] = {
    "pem-utf16be": utf16be_pem,
    "base64-der-pkcs8-rsa": base64_der,
    "base64url-der-pkcs8-ec": base64_der,
    "jwk-rsa": jwk,
    "jwk-escaped-ec": escaped_jwk,
    "jwks-private": jwk,
    "dotnet-xml-rsa": lambda data: dotnet_xml(data, "ascii"),
    "dotnet-xml-utf16le": lambda data: dotnet_xml(data, "utf-16-le"),
    "cng-rsa2": cng_rsa,
    "cng-rsa3": cng_rsa,
    "cng-ecc-private": cng_ecc,
    "capi-privatekeyblob": capi_rsa,
    "ppk-v2-rsa": ppk,
    "ppk-v3-ed25519": ppk,
    "ppk-v3-encrypted": ppk,
    "openpgp-armored": openpgp_armored,
    "openpgp-binary-protected": openpgp_binary,
    "pkcs12-changeit": pkcs12_store,
    "jks-changeit": jks_store,
}
