"""Windows CNG key blobs (bcrypt.h), as BCryptExportKey writes them and .NET keeps them.

BCRYPT_RSAKEY_BLOB: six ULONGs, little-endian, then big-endian numbers:

    Magic  BitLength  cbPublicExp  cbModulus  cbPrime1  cbPrime2
    PublicExponent[cbPublicExp] Modulus[cbModulus]                  RSA1 (public)
    ... Prime1[cbPrime1] Prime2[cbPrime2]                           RSA2 (private)
    ... Exponent1[cbPrime1] Exponent2[cbPrime2]
        Coefficient[cbPrime1] PrivateExponent[cbModulus]            RSA3 (full private)

BCRYPT_ECCKEY_BLOB: dwMagic, cbKey (ULONGs, little-endian), then X[cbKey],
Y[cbKey] and, in private blobs, d[cbKey], big-endian.  The magic names the
curve: ECS1/ECS2 (ECDSA P-256 public/private), ECS3/ECS4 (P-384), ECS5/ECS6
(P-521), and ECK1..ECK6 likewise for ECDH keys.

Every length field is checked against BitLength (or the curve) before any
number is read, and no number is read past the parser's bound.  Private blobs
become RSAPrivateKey / ECPrivateKey DER, public blobs RSAPublicKey /
SubjectPublicKeyInfo DER (scanner.detectors.key_der).
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.detectors.blob_base import BlobError, BlobParser, BlobReader, payload_of
from scanner.detectors.key_der import (
    MIN_RSA_BITS,
    RsaNumbers,
    ec_point,
    ec_private_der,
    ec_public_spki,
    rsa_private_der,
    rsa_public_der,
)
from scanner.keys.base import Payload, PayloadKind
from scanner.keys.ec import CURVES, Curve
from scanner.keys.rsa import MAX_RSA_BITS

ENCODING = "cng-blob"

RSA_PUBLIC_MAGIC = b"RSA1"  # BCRYPT_RSAPUBLIC_MAGIC 0x31415352
RSA_PRIVATE_MAGIC = b"RSA2"  # BCRYPT_RSAPRIVATE_MAGIC 0x32415352
RSA_FULL_PRIVATE_MAGIC = b"RSA3"  # BCRYPT_RSAFULLPRIVATE_MAGIC 0x33415352
_RSA_MAGICS = (RSA_PUBLIC_MAGIC, RSA_PRIVATE_MAGIC, RSA_FULL_PRIVATE_MAGIC)
_RSA_HEADER_BYTES = 24
# Windows 10 1903+ refuses public exponents above 2^64 - 1: at most 8 bytes.
_MAX_PUBLIC_EXPONENT_BYTES = 8
_MAX_MODULUS_BYTES = MAX_RSA_BITS // 8
# Windows and .NET write primes of (cbModulus + 1) / 2 bytes; one more is allowed.
_MAX_PRIME_BYTES = _MAX_MODULUS_BYTES // 2 + 1
# RSA3 of a 16384-bit key: header, e, n and d of 2 KiB, five values of a prime's size.
_MAX_RSA_BLOB_BYTES = (
    _RSA_HEADER_BYTES + _MAX_PUBLIC_EXPONENT_BYTES + 2 * _MAX_MODULUS_BYTES + 5 * _MAX_PRIME_BYTES
)

_CURVE_BY_NAME = {curve.name: curve for curve in CURVES}
_P521 = _CURVE_BY_NAME["P-521"]
# ECCKEY magics: "ECS"/"ECK" and a digit; odd digits public, even private.
_ECC_MAGICS: dict[bytes, tuple[Curve, bool]] = {
    f"{family}{digit}".encode(): (_CURVE_BY_NAME[name], digit % 2 == 0)
    for family in ("ECS", "ECK")
    for digit, name in enumerate(("P-256", "P-256", "P-384", "P-384", "P-521", "P-521"), 1)
}
_ECC_HEADER_BYTES = 8


@dataclass(frozen=True)
class RsaBlobHeader:
    """The six BCRYPT_RSAKEY_BLOB fields."""

    magic: bytes
    bit_length: int
    public_exponent_bytes: int
    modulus_bytes: int
    prime1_bytes: int
    prime2_bytes: int


def read_rsa_blob(data: bytes, offset: int, limit: int) -> tuple[Payload, int]:
    """(payload, end offset) of the BCRYPT_RSAKEY_BLOB at `offset`; BlobError otherwise."""
    reader = BlobReader(data, offset, limit)
    header = _read_rsa_header(reader)
    e = reader.big_endian(header.public_exponent_bytes)
    n = reader.big_endian(header.modulus_bytes)
    if not header.bit_length - 8 < n.bit_length() <= header.bit_length:
        raise BlobError(f"modulus at offset {offset} does not have BitLength bits")
    if header.magic == RSA_PUBLIC_MAGIC:
        payload = payload_of(PayloadKind.PKCS1_PUBLIC, rsa_public_der(n, e), offset)
    else:
        numbers = _read_private_numbers(reader, header, n, e)
        payload = payload_of(PayloadKind.PKCS1_PRIVATE, rsa_private_der(numbers), offset)
    return payload, reader.position


def _read_rsa_header(reader: BlobReader) -> RsaBlobHeader:
    magic = reader.take(4)
    if magic not in _RSA_MAGICS:
        raise BlobError(f"no BCRYPT_RSAKEY_BLOB magic at offset {reader.position - 4}")
    sizes = [reader.uint32_le() for _ in range(5)]
    header = RsaBlobHeader(magic, *sizes)
    _check_rsa_header(header, reader.position - _RSA_HEADER_BYTES)
    return header


def _check_rsa_header(header: RsaBlobHeader, offset: int) -> None:
    if not MIN_RSA_BITS <= header.bit_length <= MAX_RSA_BITS:
        raise BlobError(f"BitLength at offset {offset} is outside RSA key sizes")
    if header.modulus_bytes != (header.bit_length + 7) // 8:
        raise BlobError(f"cbModulus at offset {offset} does not match BitLength")
    if not 1 <= header.public_exponent_bytes <= _MAX_PUBLIC_EXPONENT_BYTES:
        raise BlobError(f"cbPublicExp at offset {offset} is out of range")
    primes = (header.prime1_bytes, header.prime2_bytes)
    if header.magic == RSA_PUBLIC_MAGIC and primes == (0, 0):
        return  # BCryptExportKey leaves the prime sizes 0 in public blobs
    largest_prime = (header.modulus_bytes + 1) // 2 + 1
    if not all(1 <= size <= largest_prime for size in primes):
        raise BlobError(f"cbPrime1 or cbPrime2 at offset {offset} does not match cbModulus")


def _read_private_numbers(reader: BlobReader, header: RsaBlobHeader, n: int, e: int) -> RsaNumbers:
    p = reader.big_endian(header.prime1_bytes)
    q = reader.big_endian(header.prime2_bytes)
    if header.magic == RSA_PRIVATE_MAGIC:
        return RsaNumbers(n, e, p, q)  # d and the CRT values are computed
    dp = reader.big_endian(header.prime1_bytes)
    dq = reader.big_endian(header.prime2_bytes)
    qinv = reader.big_endian(header.prime1_bytes)
    d = reader.big_endian(header.modulus_bytes)
    return RsaNumbers(n, e, p, q, d, dp, dq, qinv)


def read_ecc_blob(data: bytes, offset: int, limit: int) -> tuple[Payload, int]:
    """(payload, end offset) of the BCRYPT_ECCKEY_BLOB at `offset`; BlobError otherwise."""
    reader = BlobReader(data, offset, limit)
    curve_and_private = _ECC_MAGICS.get(reader.take(4))
    if curve_and_private is None:
        raise BlobError(f"no BCRYPT_ECCKEY_BLOB magic at offset {offset}")
    curve, private = curve_and_private
    if reader.uint32_le() != curve.size_bytes:
        raise BlobError(f"cbKey at offset {offset} does not match the magic's curve")
    point = ec_point(curve, reader.take(curve.size_bytes), reader.take(curve.size_bytes))
    if point is None:
        raise BlobError(f"coordinates at offset {offset} do not fit the curve")
    if private:
        der = ec_private_der(curve, reader.big_endian(curve.size_bytes), point)
        return payload_of(PayloadKind.SEC1_PRIVATE, der, offset), reader.position
    return payload_of(PayloadKind.SPKI, ec_public_spki(curve, point), offset), reader.position


class CngRsaParser(BlobParser):
    name = "cng-rsa"
    encoding = ENCODING
    max_length = _MAX_RSA_BLOB_BYTES

    def read_blob(self, data: bytes, offset: int, limit: int) -> tuple[Payload, int]:
        return read_rsa_blob(data, offset, limit)


class CngEccParser(BlobParser):
    name = "cng-ecc"
    encoding = ENCODING
    max_length = _ECC_HEADER_BYTES + 3 * _P521.size_bytes  # X, Y, d of P-521

    def read_blob(self, data: bytes, offset: int, limit: int) -> tuple[Payload, int]:
        return read_ecc_blob(data, offset, limit)
