"""RSAPublicKey, RFC 8017 appendix A.1.1: SEQUENCE { modulus, publicExponent }."""

from __future__ import annotations

from scanner.detectors.asn1 import TAG_SEQUENCE, DerError, DerReader, read_element
from scanner.detectors.der_base import DerParser
from scanner.keys.base import PayloadKind


def rsa_public_key_end(data: bytes, offset: int, limit: int) -> int:
    outer = read_element(data, offset, limit)
    if outer.tag != TAG_SEQUENCE:
        raise DerError(f"not an RSAPublicKey at offset {offset}")
    fields = DerReader.over(data, outer)
    fields.positive_integer_element()
    fields.positive_integer_element()
    fields.finish()
    return outer.end


class DerPkcs1PublicParser(DerParser):
    name = "der-pkcs1-public"
    kind = PayloadKind.PKCS1_PUBLIC
    # A 16384-bit modulus takes 2 KiB.
    max_length = 4 * 1024

    def structure_end(self, data: bytes, offset: int, limit: int) -> int:
        return rsa_public_key_end(data, offset, limit)
