"""The password checks and key protections of Java's own keystores, built with hashlib.

Store integrity (JavaKeyStore and JceKeyStore engineStore/getPreKeyedHash):
    SHA-1(password as UTF-16BE || "Mighty Aphrodite" || store bytes)

JKS key protection, sun.security.provider.KeyProtector (OID 1.3.6.1.4.1.42.2.17.1.1):
    encryptedKey = salt(20) || plaintext XOR keystream || SHA-1(password || plaintext)
    keystream    = D1 || D2 || ...,  D1 = SHA-1(password || salt),  Dn = SHA-1(password || Dn-1)
with the password as UTF-16BE; the plaintext is a PKCS#8 PrivateKeyInfo.

JCEKS key protection, com.sun.crypto.provider.KeyProtector: PBEWithMD5AndTripleDES
(OID 1.3.6.1.4.1.42.2.19.1, Sun's PBES1Core), parameters PBEParameter { salt(8),
iterations }.  Each 4-byte salt half (the first half reversed when the halves
are equal) is hashed `iterations` times as Hn = MD5(Hn-1 || password), H0 = the
half; H(first) || H(second) gives the 3DES key (24 bytes) and the CBC IV (8).
The password must be printable ASCII (javax.crypto PBEKey refuses anything else).
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from scanner.detectors.asn1 import DerError, DerReader
from scanner.detectors.der_pkcs8 import read_private_key_info

JKS_KEY_PROTECTOR_OID = "1.3.6.1.4.1.42.2.17.1.1"
JCEKS_KEY_PROTECTOR_OID = "1.3.6.1.4.1.42.2.19.1"
_WHITENER = b"Mighty Aphrodite"
_SHA1_BYTES = 20
_JCEKS_SALT_BYTES = 8
_DES_EDE_KEY_BYTES = 24
_DES_BLOCK_BYTES = 8
# com.sun.crypto.provider.KeyProtector refuses more than 5,000,000 iterations
# (MAX_ITERATION_COUNT); the default is 200,000 since JDK 8u301.
MAX_JCEKS_ITERATIONS = 5_000_000


def store_password_matches(signed_bytes: bytes, digest: bytes, password: str) -> bool:
    """Does `password` give the store's trailing integrity digest?"""
    expected = hashlib.sha1(_java_chars(password) + _WHITENER + signed_bytes).digest()  # noqa: S324 - the format's own digest
    return hmac.compare_digest(expected, digest)


def _java_chars(password: str) -> bytes:
    """A Java char[] as bytes, high byte first (surrogate pairs stay two chars)."""
    return password.encode("utf-16-be", "surrogatepass")


def protection_of(protected_key: bytes) -> tuple[str, bytes, bytes]:
    """(scheme OID, its parameters TLV or b"", ciphertext) of an EncryptedPrivateKeyInfo."""
    outer = DerReader(protected_key, 0, len(protected_key)).sequence()
    algorithm = outer.sequence()
    oid = algorithm.oid()
    parameters = b"" if algorithm.at_end() else algorithm.raw(algorithm.any_element())
    algorithm.finish()
    ciphertext = outer.octet_string()
    outer.finish()
    return oid, parameters, ciphertext


def recover_jks_key(ciphertext: bytes, password: str) -> bytes | None:
    """The PrivateKeyInfo DER, or None when `password` is not the key's password."""
    if len(ciphertext) <= 2 * _SHA1_BYTES:
        return None
    password_bytes = _java_chars(password)
    salt, check = ciphertext[:_SHA1_BYTES], ciphertext[-_SHA1_BYTES:]
    encrypted = ciphertext[_SHA1_BYTES:-_SHA1_BYTES]
    keystream = bytearray()
    block = salt
    while len(keystream) < len(encrypted):
        block = hashlib.sha1(password_bytes + block).digest()  # noqa: S324 - Sun's KeyProtector
        keystream += block
    mask = int.from_bytes(keystream[: len(encrypted)], "big")
    plaintext = (int.from_bytes(encrypted, "big") ^ mask).to_bytes(len(encrypted), "big")
    computed = hashlib.sha1(password_bytes + plaintext).digest()  # noqa: S324
    return plaintext if hmac.compare_digest(computed, check) else None


def jceks_iterations(parameters: bytes) -> tuple[bytes, int]:
    """(salt, iterations) of PBEParameter; DerError when malformed or out of bounds."""
    fields = DerReader(parameters, 0, len(parameters)).sequence()
    salt = fields.octet_string()
    iterations = fields.integer()
    fields.finish()
    if len(salt) != _JCEKS_SALT_BYTES or not 1 <= iterations <= MAX_JCEKS_ITERATIONS:
        raise DerError("PBEWithMD5AndTripleDES parameters out of bounds")
    return salt, iterations


def recover_jceks_key(
    ciphertext: bytes, salt: bytes, iterations: int, password: str
) -> bytes | None:
    """The PrivateKeyInfo DER, or None when `password` does not decrypt it to one."""
    if not password.isascii() or not password.isprintable() or len(ciphertext) % _DES_BLOCK_BYTES:
        return None
    key, iv = _pbes1_md5_3des(password.encode("ascii"), salt, iterations)
    decryptor = Cipher(TripleDES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(_DES_BLOCK_BYTES * 8).unpadder()
    try:
        plaintext = unpadder.update(padded) + unpadder.finalize()
        read_private_key_info(plaintext, 0, len(plaintext))
    except (ValueError, DerError):
        return None  # wrong password: bad padding or not a PrivateKeyInfo
    return plaintext


def _pbes1_md5_3des(password: bytes, salt: bytes, iterations: int) -> tuple[bytes, bytes]:
    halves = [salt[:4], salt[4:]]
    if halves[0] == halves[1]:
        halves[0] = halves[0][::-1]  # PBES1Core: "invert" the first half
    derived = b""
    for half in halves:
        value = half
        for _ in range(iterations):
            value = hashlib.md5(value + password).digest()  # noqa: S324 - the scheme's hash
        derived += value
    return derived[:_DES_EDE_KEY_BYTES], derived[_DES_EDE_KEY_BYTES:]
