"""EncryptedPrivateKeyInfo, RFC 5208 6 ("BEGIN ENCRYPTED PRIVATE KEY").

    EncryptedPrivateKeyInfo ::= SEQUENCE {
        encryptionAlgorithm AlgorithmIdentifier { OID, parameters SEQUENCE },
        encryptedData OCTET STRING }

Accepted schemes: PBES2 and the PBES1 schemes of RFC 8018 A.3/A.2, and the
PKCS#12 PBE schemes of RFC 7292 appendix C.  Every one of them has SEQUENCE
parameters; the prover checks what is in them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scanner.detectors.asn1 import (
    TAG_OCTET_STRING,
    TAG_SEQUENCE,
    DerError,
    DerReader,
    read_element,
)
from scanner.detectors.der_base import DerParser
from scanner.keys.base import PayloadKind

PBES2_OID = "1.2.840.113549.1.5.13"


@dataclass(frozen=True)
class PbeScheme:
    """block_bytes: the cipher's block size for a fixed-cipher scheme, None for a stream
    cipher (RC4) or for PBES2, whose cipher is named in its parameters."""

    name: str
    block_bytes: int | None


PBE_SCHEMES = {
    PBES2_OID: PbeScheme("PBES2", None),
    "1.2.840.113549.1.5.1": PbeScheme("pbeWithMD2AndDES-CBC", 8),
    "1.2.840.113549.1.5.3": PbeScheme("pbeWithMD5AndDES-CBC", 8),
    "1.2.840.113549.1.5.4": PbeScheme("pbeWithMD2AndRC2-CBC", 8),
    "1.2.840.113549.1.5.6": PbeScheme("pbeWithMD5AndRC2-CBC", 8),
    "1.2.840.113549.1.5.10": PbeScheme("pbeWithSHA1AndDES-CBC", 8),
    "1.2.840.113549.1.5.11": PbeScheme("pbeWithSHA1AndRC2-CBC", 8),
    "1.2.840.113549.1.12.1.1": PbeScheme("pbeWithSHAAnd128BitRC4", None),
    "1.2.840.113549.1.12.1.2": PbeScheme("pbeWithSHAAnd40BitRC4", None),
    "1.2.840.113549.1.12.1.3": PbeScheme("pbeWithSHAAnd3-KeyTripleDES-CBC", 8),
    "1.2.840.113549.1.12.1.4": PbeScheme("pbeWithSHAAnd2-KeyTripleDES-CBC", 8),
    "1.2.840.113549.1.12.1.5": PbeScheme("pbeWithSHAAnd128BitRC2-CBC", 8),
    "1.2.840.113549.1.12.1.6": PbeScheme("pbewithSHAAnd40BitRC2-CBC", 8),
}


@dataclass(frozen=True)
class EncryptedPrivateKeyInfoDer:
    """scheme_oid and its parameters (the whole SEQUENCE TLV), then the ciphertext."""

    scheme_oid: str
    parameters: bytes
    ciphertext: bytes = field(repr=False)
    end: int


def read_encrypted_private_key_info(
    data: bytes, offset: int, limit: int
) -> EncryptedPrivateKeyInfoDer:
    outer = read_element(data, offset, limit)
    if outer.tag != TAG_SEQUENCE:
        raise DerError(f"not an EncryptedPrivateKeyInfo at offset {offset}")
    fields = DerReader.over(data, outer)
    identifier = fields.sequence()
    scheme_oid = identifier.oid()
    parameters = identifier.element(TAG_SEQUENCE)
    identifier.finish()
    ciphertext = fields.element(TAG_OCTET_STRING)
    fields.finish()
    if scheme_oid not in PBE_SCHEMES or ciphertext.length == 0:
        raise DerError(f"unknown encryption scheme or no ciphertext at offset {offset}")
    return EncryptedPrivateKeyInfoDer(
        scheme_oid, fields.raw(parameters), fields.content(ciphertext), outer.end
    )


class DerEncryptedParser(DerParser):
    name = "der-encrypted-pkcs8"
    kind = PayloadKind.ENCRYPTED_PKCS8
    # An encrypted 16384-bit RSA key: about 9.5 KiB.
    max_length = 16 * 1024

    def structure_end(self, data: bytes, offset: int, limit: int) -> int:
        return read_encrypted_private_key_info(data, offset, limit).end
