"""RSAPrivateKey, RFC 8017 appendix A.1.2 (the "BEGIN RSA PRIVATE KEY" body).

    RSAPrivateKey ::= SEQUENCE { version 0, modulus, publicExponent,
        privateExponent, prime1, prime2, exponent1, exponent2, coefficient }

Only two-prime keys (version 0) are accepted: multi-prime keys (version 1,
with otherPrimeInfos) cannot be loaded by `cryptography`, so they could not be
proven, and no common tool writes them.
"""

from __future__ import annotations

from scanner.detectors.asn1 import DerError, DerReader, read_element
from scanner.detectors.der_base import DerParser
from scanner.keys.base import PayloadKind

_RSA_INTEGER_FIELDS = 8  # modulus .. coefficient


def rsa_private_key_end(data: bytes, offset: int, limit: int) -> int:
    outer = read_element(data, offset, limit)
    fields = DerReader.over(data, outer)
    if outer.tag != 0x30 or fields.integer() != 0:
        raise DerError(f"not a two-prime RSAPrivateKey at offset {offset}")
    for _ in range(_RSA_INTEGER_FIELDS):
        fields.positive_integer_element()
    fields.finish()
    return outer.end


class DerPkcs1Parser(DerParser):
    name = "der-pkcs1"
    kind = PayloadKind.PKCS1_PRIVATE
    # A 16384-bit key (OpenSSL's RSA limit) takes about 9.3 KiB.
    max_length = 16 * 1024

    def structure_end(self, data: bytes, offset: int, limit: int) -> int:
        return rsa_private_key_end(data, offset, limit)
