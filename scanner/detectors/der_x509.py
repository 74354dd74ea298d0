"""Certificate, RFC 5280 4.1 (inventory: its subject public key).

    Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
    TBSCertificate ::= SEQUENCE { version [0] EXPLICIT INTEGER, serialNumber INTEGER,
        signature AlgorithmIdentifier, issuer Name, validity Validity, subject Name,
        subjectPublicKeyInfo, issuerUniqueID [1] OPTIONAL, subjectUniqueID [2] OPTIONAL,
        extensions [3] EXPLICIT OPTIONAL }

Only v2 and v3 certificates (the version field present) are recognised.  The
subject key may use any algorithm here; the prover decides what it can report.
Names and extensions are checked as elements, not field by field.
"""

from __future__ import annotations

from scanner.detectors.asn1 import (
    TAG_BIT_STRING,
    TAG_SEQUENCE,
    DerError,
    DerReader,
    context_tag,
    read_element,
)
from scanner.detectors.der_base import DerParser
from scanner.keys.base import PayloadKind

_VERSION_TAG = context_tag(0, constructed=True)
_OPTIONAL_TAGS = (
    context_tag(1, constructed=False),  # issuerUniqueID
    context_tag(2, constructed=False),  # subjectUniqueID
    context_tag(3, constructed=True),  # extensions
)
_UTC_TIME, _GENERALIZED_TIME = 0x17, 0x18
_V2, _V3 = 1, 2


def certificate_end(data: bytes, offset: int, limit: int) -> int:
    outer = read_element(data, offset, limit)
    if outer.tag != TAG_SEQUENCE:
        raise DerError(f"not a Certificate at offset {offset}")
    certificate = DerReader.over(data, outer)
    _check_tbs_certificate(certificate.sequence())
    _check_algorithm_identifier(certificate.sequence())
    certificate.bit_string_element(TAG_BIT_STRING)
    certificate.finish()
    return outer.end


def _check_tbs_certificate(tbs: DerReader) -> None:
    version = tbs.enter(tbs.element(_VERSION_TAG))
    if version.integer() not in (_V2, _V3):
        raise DerError(f"unsupported certificate version before offset {tbs.position}")
    version.finish()
    tbs.integer_element()  # serialNumber
    _check_algorithm_identifier(tbs.sequence())
    tbs.element(TAG_SEQUENCE)  # issuer
    _check_validity(tbs.sequence())
    tbs.element(TAG_SEQUENCE)  # subject
    _check_subject_public_key_info(tbs.sequence())
    for tag in _OPTIONAL_TAGS:
        tbs.optional(tag)
    tbs.finish()


def _check_algorithm_identifier(identifier: DerReader) -> None:
    identifier.oid()
    if not identifier.at_end():
        identifier.any_element()  # parameters
    identifier.finish()


def _check_validity(validity: DerReader) -> None:
    for _ in range(2):  # notBefore, notAfter
        if validity.peek_tag() not in (_UTC_TIME, _GENERALIZED_TIME):
            raise DerError(f"malformed Validity at offset {validity.position}")
        validity.any_element()
    validity.finish()


def _check_subject_public_key_info(spki: DerReader) -> None:
    _check_algorithm_identifier(spki.sequence())
    spki.bit_string_element(TAG_BIT_STRING)
    spki.finish()


class DerX509Parser(DerParser):
    name = "der-x509"
    kind = PayloadKind.X509_CERTIFICATE
    # The anchor admits a two-byte outer length: at most 4 + 0xFFFF bytes.
    max_length = 4 + 0xFFFF

    def structure_end(self, data: bytes, offset: int, limit: int) -> int:
        return certificate_end(data, offset, limit)
