"""Spec-exact writers of Windows key blobs and .NET RSAKeyValue XML (samples and tests).

No Windows (and no .NET) is available here, so these write the published
layouts from keys made with `cryptography`:

* BCRYPT_RSAKEY_BLOB and BCRYPT_ECCKEY_BLOB: learn.microsoft.com, bcrypt.h
  structure pages.  Field widths follow what BCryptExportKey writes: the
  minimal exponent, cbPrime1 = cbPrime2 = cbModulus / 2, prime sizes 0 in
  public blobs, every number zero-padded to its field.
* CryptoAPI PUBLICKEYBLOB / PRIVATEKEYBLOB: "Base Provider Key BLOBs"
  (BLOBHEADER, RSAPUBKEY, little-endian numbers of bitlen/8 and bitlen/16 bytes).
* RSAKeyValue: the element order and padding of .NET RSA.ToXmlString
  (Modulus, Exponent, P, Q, DP, DQ, InverseQ, D; P..InverseQ of half the
  modulus size, D of the modulus size).

While these writers were made they were checked against blobs written by
Windows itself (not kept in the repository, since they hold keys): for an
sn.exe strong-name key.snk (CAPI PRIVATEKEYBLOB, CALG_RSA_SIGN, 1024 bits) and
for the RSA2/RSA3 vectors of Wine's bcrypt conformance tests (which pass on
Windows), `capi_rsa_blob` and `cng_rsa_blob` of the key the parser read back
reproduced the original bytes exactly; the RSA1 vector parsed and proved too.
"""

from __future__ import annotations

import base64
import enum

from cryptography.hazmat.primitives.asymmetric import ec, rsa

CALG_RSA_KEYX = 0xA400
CALG_RSA_SIGN = 0x2400


class CngRsaMagic(enum.Enum):
    PUBLIC = b"RSA1"
    PRIVATE = b"RSA2"
    FULL_PRIVATE = b"RSA3"


def big_endian(value: int, size: int) -> bytes:
    return value.to_bytes(size, "big")


def little_endian(value: int, size: int) -> bytes:
    return value.to_bytes(size, "little")


def minimal_bytes(value: int) -> bytes:
    return big_endian(value, (value.bit_length() + 7) // 8)


def cng_rsa_blob(key: rsa.RSAPrivateKey, magic: CngRsaMagic) -> bytes:
    """BCRYPT_RSAKEY_BLOB { Magic, BitLength, cbPublicExp, cbModulus, cbPrime1, cbPrime2 }."""
    numbers = key.private_numbers()
    public = numbers.public_numbers
    modulus_bytes = (key.key_size + 7) // 8
    prime_bytes = (modulus_bytes + 1) // 2
    exponent = minimal_bytes(public.e)
    primes = (0, 0) if magic is CngRsaMagic.PUBLIC else (prime_bytes, prime_bytes)
    sizes = (key.key_size, len(exponent), modulus_bytes, *primes)
    blob = magic.value + b"".join(little_endian(size, 4) for size in sizes)
    blob += exponent + big_endian(public.n, modulus_bytes)
    if magic is CngRsaMagic.PUBLIC:
        return blob
    blob += big_endian(numbers.p, prime_bytes) + big_endian(numbers.q, prime_bytes)
    if magic is CngRsaMagic.PRIVATE:
        return blob
    for value in (numbers.dmp1, numbers.dmq1, numbers.iqmp):
        blob += big_endian(value, prime_bytes)
    return blob + big_endian(numbers.d, modulus_bytes)


_CURVE_DIGITS = {"secp256r1": 1, "secp384r1": 3, "secp521r1": 5}


def cng_ecc_magic(curve: ec.EllipticCurve, *, private: bool, ecdh: bool) -> bytes:
    """ECS1..ECS6 (ECDSA) or ECK1..ECK6 (ECDH): odd digits public, the next even private."""
    digit = _CURVE_DIGITS[curve.name] + (1 if private else 0)
    return ("ECK" if ecdh else "ECS").encode() + str(digit).encode()


def cng_ecc_blob(key: ec.EllipticCurvePrivateKey, *, private: bool, ecdh: bool) -> bytes:
    """BCRYPT_ECCKEY_BLOB { dwMagic, cbKey } X Y [d], big-endian, cbKey bytes each."""
    size = (key.curve.key_size + 7) // 8
    public = key.public_key().public_numbers()
    blob = cng_ecc_magic(key.curve, private=private, ecdh=ecdh) + little_endian(size, 4)
    blob += big_endian(public.x, size) + big_endian(public.y, size)
    if private:
        blob += big_endian(key.private_numbers().private_value, size)
    return blob


def capi_rsa_blob(
    key: rsa.RSAPrivateKey, *, private: bool, algorithm: int = CALG_RSA_KEYX
) -> bytes:
    """BLOBHEADER { bType, bVersion 2, reserved 0, aiKeyAlg } RSAPUBKEY { magic, bitlen, pubexp }
    and the little-endian numbers."""
    numbers = key.private_numbers()
    public = numbers.public_numbers
    modulus_bytes = key.key_size // 8
    half = (modulus_bytes + 1) // 2
    blob_type, magic = (0x07, b"RSA2") if private else (0x06, b"RSA1")
    header = bytes([blob_type, 2]) + little_endian(0, 2) + little_endian(algorithm, 4)
    rsapubkey = magic + little_endian(key.key_size, 4) + little_endian(public.e, 4)
    blob = header + rsapubkey + little_endian(public.n, modulus_bytes)
    if not private:
        return blob
    for value in (numbers.p, numbers.q, numbers.dmp1, numbers.dmq1, numbers.iqmp):
        blob += little_endian(value, half)
    return blob + little_endian(numbers.d, modulus_bytes)


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def rsa_key_value_elements(key: rsa.RSAPrivateKey, *, private: bool) -> list[tuple[str, str]]:
    """(element, base64 value) pairs in ToXmlString's order."""
    numbers = key.private_numbers()
    public = numbers.public_numbers
    modulus_bytes = (key.key_size + 7) // 8
    half = (modulus_bytes + 1) // 2
    elements = [
        ("Modulus", _b64(minimal_bytes(public.n))),
        ("Exponent", _b64(minimal_bytes(public.e))),
    ]
    if not private:
        return elements
    halves = (
        ("P", numbers.p),
        ("Q", numbers.q),
        ("DP", numbers.dmp1),
        ("DQ", numbers.dmq1),
        ("InverseQ", numbers.iqmp),
    )
    elements += [(name, _b64(big_endian(value, half))) for name, value in halves]
    return [*elements, ("D", _b64(big_endian(numbers.d, modulus_bytes)))]


def rsa_key_value_xml(
    elements: list[tuple[str, str]], *, separator: str = "", attributes: str = ""
) -> str:
    """<RSAKeyValue> with the elements in the given order, `separator` between them."""
    body = separator.join(f"<{name}>{value}</{name}>" for name, value in elements)
    return f"<RSAKeyValue{attributes}>{separator}{body}{separator}</RSAKeyValue>"
