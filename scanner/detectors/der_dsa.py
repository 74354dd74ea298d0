"""OpenSSL's traditional DSAPrivateKey (the "BEGIN DSA PRIVATE KEY" body).

    DSAPrivateKey ::= SEQUENCE { version 0, p, q, g, y (public), x (private) }

It starts like an RSAPrivateKey; the field count tells them apart (six
INTEGERs here, nine there), so each parser rejects the other's structure.
"""

from __future__ import annotations

from scanner.detectors.asn1 import DerError, DerReader, read_element
from scanner.detectors.der_base import DerParser
from scanner.keys.base import PayloadKind

_DSA_INTEGER_FIELDS = 5  # p, q, g, y, x


def dsa_private_key_end(data: bytes, offset: int, limit: int) -> int:
    outer = read_element(data, offset, limit)
    fields = DerReader.over(data, outer)
    if outer.tag != 0x30 or fields.integer() != 0:
        raise DerError(f"not a DSAPrivateKey at offset {offset}")
    for _ in range(_DSA_INTEGER_FIELDS):
        fields.positive_integer_element()
    fields.finish()
    return outer.end


class DerDsaParser(DerParser):
    name = "der-dsa"
    kind = PayloadKind.DSA_PRIVATE
    # p, g, y of 3072 bits take 1.2 KiB; 8 KiB leaves room for 16384-bit p.
    max_length = 8 * 1024

    def structure_end(self, data: bytes, offset: int, limit: int) -> int:
        return dsa_private_key_end(data, offset, limit)
