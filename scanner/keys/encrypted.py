"""Encrypted private keys: proven by structure, since no password is at hand.

EncryptedPrivateKeyInfo (RFC 5208 6) must name a known scheme with well-formed
parameters: PBES1 and PKCS#12 PBEParameter { salt, iterations } (RFC 8018 A.3,
RFC 7292 C), or PBES2 { PBKDF2 or scrypt, a known cipher } (RFC 8018 A.4, A.2,
RFC 7914 7), and a ciphertext that is a whole number of cipher blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.detectors.asn1 import TAG_INTEGER, TAG_SEQUENCE, DerReader
from scanner.detectors.der_encrypted import (
    PBE_SCHEMES,
    PBES2_OID,
    read_encrypted_private_key_info,
)
from scanner.errors import KeyProofError
from scanner.keys.base import Key, KeyKind
from scanner.keys.describe import ALGORITHMS

_PBKDF2_OID = "1.2.840.113549.1.5.12"
_SCRYPT_OID = "1.3.6.1.4.1.11591.4.11"
_SCRYPT_INTEGER_FIELDS = 3  # costParameter, blockSize, parallelizationParameter


@dataclass(frozen=True)
class _Cipher:
    """block_bytes None: no padding (GCM); iv_bytes None: parameters not an IV."""

    name: str
    block_bytes: int | None
    iv_bytes: int | None


_PBES2_CIPHERS = {
    "2.16.840.1.101.3.4.1.2": _Cipher("aes128-CBC", 16, 16),
    "2.16.840.1.101.3.4.1.22": _Cipher("aes192-CBC", 16, 16),
    "2.16.840.1.101.3.4.1.42": _Cipher("aes256-CBC", 16, 16),
    "2.16.840.1.101.3.4.1.6": _Cipher("aes128-GCM", None, None),
    "2.16.840.1.101.3.4.1.26": _Cipher("aes192-GCM", None, None),
    "2.16.840.1.101.3.4.1.46": _Cipher("aes256-GCM", None, None),
    "1.2.840.113549.3.7": _Cipher("des-ede3-cbc", 8, 8),
    "1.3.14.3.2.7": _Cipher("desCBC", 8, 8),
    "1.2.840.113549.3.2": _Cipher("rc2CBC", 8, None),
}


def prove_encrypted_pkcs8(data: bytes, algorithm_hint: str | None) -> Key:
    info = read_encrypted_private_key_info(data, 0, len(data))
    if info.end != len(data):
        raise KeyProofError("bytes follow the EncryptedPrivateKeyInfo")
    parameters = DerReader(info.parameters, 0, len(info.parameters)).sequence()
    if info.scheme_oid == PBES2_OID:
        block_bytes = _check_pbes2_parameters(parameters)
    else:
        _check_pbe_parameters(parameters)
        block_bytes = PBE_SCHEMES[info.scheme_oid].block_bytes
    if block_bytes is not None and len(info.ciphertext) % block_bytes != 0:
        raise KeyProofError("ciphertext is not a whole number of cipher blocks")
    return encrypted_key(algorithm_hint)


def prove_legacy_encrypted_pem(ciphertext: bytes, algorithm_hint: str | None) -> Key:
    """RFC 1421 Proc-Type: 4,ENCRYPTED body.  The PEM detector checked the headers;
    the payload does not carry the DEK-Info cipher, so no block size is known here."""
    if not ciphertext:
        raise KeyProofError("encrypted PEM body is empty")
    return encrypted_key(algorithm_hint)


def encrypted_key(algorithm_hint: str | None) -> Key:
    algorithm = algorithm_hint if algorithm_hint in ALGORITHMS else None
    return Key(KeyKind.ENCRYPTED, algorithm, None, None, None)


def _check_pbe_parameters(parameters: DerReader) -> None:
    """PBEParameter / pkcs-12PbeParams: SEQUENCE { salt OCTET STRING, iterations INTEGER }."""
    salt = parameters.octet_string()
    iterations = parameters.integer()
    parameters.finish()
    if not salt or iterations < 1:
        raise KeyProofError("PBE parameters have no salt or no iterations")


def _check_pbes2_parameters(parameters: DerReader) -> int | None:
    """PBES2-params; returns the cipher's block size."""
    key_derivation = parameters.sequence()
    kdf_oid = key_derivation.oid()
    if kdf_oid == _PBKDF2_OID:
        _check_pbkdf2_parameters(key_derivation.sequence())
    elif kdf_oid == _SCRYPT_OID:
        _check_scrypt_parameters(key_derivation.sequence())
    else:
        raise KeyProofError("PBES2 names an unknown key derivation function")
    key_derivation.finish()
    cipher = _check_encryption_scheme(parameters.sequence())
    parameters.finish()
    return cipher.block_bytes


def _check_pbkdf2_parameters(pbkdf2: DerReader) -> None:
    """PBKDF2-params: salt, iterationCount, keyLength OPTIONAL, prf DEFAULT hmacWithSHA1."""
    if not pbkdf2.octet_string():
        raise KeyProofError("PBKDF2 salt is empty")
    if pbkdf2.integer() < 1:
        raise KeyProofError("PBKDF2 iteration count is below 1")
    if pbkdf2.peek_tag() == TAG_INTEGER and pbkdf2.integer() < 1:
        raise KeyProofError("PBKDF2 key length is below 1")
    pbkdf2.optional(TAG_SEQUENCE)
    pbkdf2.finish()


def _check_scrypt_parameters(scrypt: DerReader) -> None:
    """scrypt-params: salt, costParameter, blockSize, parallelizationParameter, keyLength?"""
    if not scrypt.octet_string():
        raise KeyProofError("scrypt salt is empty")
    for _ in range(_SCRYPT_INTEGER_FIELDS):
        scrypt.positive_integer_element()
    if not scrypt.at_end():
        scrypt.positive_integer_element()
    scrypt.finish()


def _check_encryption_scheme(scheme: DerReader) -> _Cipher:
    cipher = _PBES2_CIPHERS.get(scheme.oid())
    if cipher is None:
        raise KeyProofError("PBES2 names an unknown cipher")
    if cipher.iv_bytes is None:
        scheme.any_element()
    elif len(scheme.octet_string()) != cipher.iv_bytes:
        raise KeyProofError(f"{cipher.name} IV has the wrong length")
    scheme.finish()
    return cipher
