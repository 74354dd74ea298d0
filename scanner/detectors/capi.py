"""Windows CryptoAPI RSA key blobs ("Base Provider Key BLOBs", "RSA/Schannel Key BLOBs").

CryptExportKey, .NET RSACryptoServiceProvider.ExportCspBlob and strong-name
.snk files write them; every field is little-endian:

    BLOBHEADER  bType (0x07 PRIVATEKEYBLOB, 0x06 PUBLICKEYBLOB), bVersion 2,
                reserved 0 (WORD), aiKeyAlg (CALG_RSA_KEYX 0xA400 or CALG_RSA_SIGN 0x2400)
    RSAPUBKEY   magic ("RSA2" private, "RSA1" public), bitlen, pubexp (DWORDs)
    modulus[bitlen/8]                                        PUBLICKEYBLOB ends here
    prime1[bitlen/16] prime2[bitlen/16] exponent1[bitlen/16]
    exponent2[bitlen/16] coefficient[bitlen/16] privateExponent[bitlen/8]

A half-length field is (bitlen/8 + 1) / 2 bytes, as .NET reads it (the same
as bitlen/16 for every bitlen that is a multiple of 16).  The anchor is bType.
A private blob becomes RSAPrivateKey DER, a public one RSAPublicKey DER.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.detectors.blob_base import BlobError, BlobParser, BlobReader, payload_of
from scanner.detectors.key_der import (
    MIN_RSA_BITS,
    RsaNumbers,
    rsa_private_der,
    rsa_public_der,
)
from scanner.keys.base import Payload, PayloadKind
from scanner.keys.rsa import MAX_RSA_BITS

ENCODING = "capi-blob"

PRIVATEKEYBLOB = 0x07
PUBLICKEYBLOB = 0x06
CUR_BLOB_VERSION = 2
CALG_RSA_KEYX = 0xA400
CALG_RSA_SIGN = 0x2400
RSA_PRIVATE_MAGIC = b"RSA2"  # 0x32415352
RSA_PUBLIC_MAGIC = b"RSA1"  # 0x31415352
_MAGIC_FOR_TYPE = {PRIVATEKEYBLOB: RSA_PRIVATE_MAGIC, PUBLICKEYBLOB: RSA_PUBLIC_MAGIC}
_HEADER_BYTES = 8 + 12  # BLOBHEADER + RSAPUBKEY
_MAX_MODULUS_BYTES = MAX_RSA_BITS // 8
# PRIVATEKEYBLOB of a 16384-bit key: modulus and privateExponent, five half-length fields.
_MAX_BLOB_BYTES = _HEADER_BYTES + 2 * _MAX_MODULUS_BYTES + 5 * (_MAX_MODULUS_BYTES // 2)


@dataclass(frozen=True)
class CapiHeader:
    """BLOBHEADER.bType and the RSAPUBKEY fields."""

    blob_type: int
    bit_length: int
    public_exponent: int

    @property
    def modulus_bytes(self) -> int:
        return self.bit_length // 8

    @property
    def half_bytes(self) -> int:
        return (self.modulus_bytes + 1) // 2


def read_capi_blob(data: bytes, offset: int, limit: int) -> tuple[Payload, int]:
    """(payload, end offset) of the PRIVATEKEYBLOB or PUBLICKEYBLOB at `offset`."""
    reader = BlobReader(data, offset, limit)
    header = _read_header(reader, offset)
    n = reader.little_endian(header.modulus_bytes)
    e = header.public_exponent
    if not header.bit_length - 8 < n.bit_length() <= header.bit_length:
        raise BlobError(f"modulus at offset {offset} does not have bitlen bits")
    if header.blob_type == PUBLICKEYBLOB:
        return payload_of(PayloadKind.PKCS1_PUBLIC, rsa_public_der(n, e), offset), reader.position
    half = header.half_bytes
    p, q, dp, dq, qinv = (reader.little_endian(half) for _ in range(5))
    d = reader.little_endian(header.modulus_bytes)
    der = rsa_private_der(RsaNumbers(n, e, p, q, d, dp, dq, qinv))
    return payload_of(PayloadKind.PKCS1_PRIVATE, der, offset), reader.position


def _read_header(reader: BlobReader, offset: int) -> CapiHeader:
    blob_type, version = reader.octet(), reader.octet()
    reserved = reader.little_endian(2)
    algorithm = reader.uint32_le()
    magic = reader.take(4)
    if (
        _MAGIC_FOR_TYPE.get(blob_type) != magic
        or version != CUR_BLOB_VERSION
        or reserved != 0
        or algorithm not in (CALG_RSA_KEYX, CALG_RSA_SIGN)
    ):
        raise BlobError(f"no CAPI RSA BLOBHEADER and RSAPUBKEY at offset {offset}")
    header = CapiHeader(blob_type, reader.uint32_le(), reader.uint32_le())
    if header.bit_length % 8 or not MIN_RSA_BITS <= header.bit_length <= MAX_RSA_BITS:
        raise BlobError(f"RSAPUBKEY bitlen at offset {offset} is not an RSA key size")
    return header


class CapiRsaParser(BlobParser):
    name = "capi-rsa"
    encoding = ENCODING
    max_length = _MAX_BLOB_BYTES

    def read_blob(self, data: bytes, offset: int, limit: int) -> tuple[Payload, int]:
        return read_capi_blob(data, offset, limit)
