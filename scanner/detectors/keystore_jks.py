"""Java keystores: JKS (sun.security.provider.JavaKeyStore) and JCEKS
(com.sun.crypto.provider.JceKeyStore), one big-endian layout (DataOutputStream):

    u32 magic (0xFEEDFEED JKS, 0xCECECECE JCEKS); u32 version (1 or 2); u32 count
    count entries, each: u32 tag; UTF alias (u16 length + modified UTF-8); u64 date
        tag 1 private key:  u32 length, EncryptedPrivateKeyInfo DER;
                            u32 chain length, per certificate: [v2: UTF type] u32 length, DER
        tag 2 trusted cert: [v2: UTF type] u32 length, DER
        tag 3 secret key (JCEKS only): a Java serialization stream (SealedObject)
    20 bytes: SHA-1(password as UTF-16BE || "Mighty Aphrodite" || every byte above)

Every length is stated, so the parser walks the entries and cuts out exactly
the store; a store that would need more than `MAX_LENGTH` bytes is not found.
A key entry must hold a whole EncryptedPrivateKeyInfo and a certificate a
whole DER SEQUENCE of the stated length, so random bytes after a magic number
give no candidate.  Opening a store is the prover's work (scanner.keys.keystore).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from scanner.detectors.asn1 import TAG_SEQUENCE, DerError, read_element
from scanner.detectors.base import Candidate, Parser, Window
from scanner.detectors.fields import FieldReader
from scanner.detectors.java_serialization import SerializationError, serialization_stream_end
from scanner.detectors.keystore_pkcs12 import MAX_LENGTH
from scanner.keys.base import Payload, PayloadKind

JKS_MAGIC = 0xFEEDFEED
JCEKS_MAGIC = 0xCECECECE
DIGEST_BYTES = 20  # SHA-1
TAG_PRIVATE_KEY, TAG_TRUSTED_CERT, TAG_SECRET_KEY = 1, 2, 3
_VERSIONS = (1, 2)
_HEADER_BYTES = 12
# The smallest entry is a version 1 trusted certificate: tag, alias length,
# date, certificate length and a certificate of at least 64 bytes.
_MIN_ENTRY_BYTES = 4 + 2 + 8 + 4 + 64
_MIN_DER_BYTES = 64  # no certificate or encrypted key is shorter
_MAX_CHAIN = 64


class JksError(Exception):
    """Bytes that are not the Java keystore the caller expects."""


@dataclass(frozen=True)
class PrivateKeyEntry:
    alias: bytes
    protected_key: bytes = field(repr=False)  # EncryptedPrivateKeyInfo DER


@dataclass(frozen=True)
class JavaKeyStore:
    """A parsed store: `signed_bytes` is what the trailing digest covers."""

    magic: int
    private_keys: tuple[PrivateKeyEntry, ...]
    signed_bytes: bytes = field(repr=False)
    digest: bytes
    end: int


class _Cursor(FieldReader):
    error = JksError

    def der(self) -> bytes:
        """u32 length then exactly one DER SEQUENCE of that length."""
        length = self.big_endian(4)
        start = self.position
        if length < _MIN_DER_BYTES:
            raise JksError(f"implausibly short DER at offset {start}")
        value = self.take(length)
        try:
            element = read_element(self.data, start, start + length)
        except DerError as error:
            raise JksError(str(error)) from None
        if element.tag != TAG_SEQUENCE or element.end != start + length:
            raise JksError(f"entry at offset {start} is not one DER SEQUENCE")
        return value


def read_java_keystore(data: bytes, offset: int, limit: int) -> JavaKeyStore:
    """The JKS or JCEKS store at `offset`; JksError unless whole and well formed."""
    cursor = _Cursor(data, offset, limit)
    magic, version, count = cursor.big_endian(4), cursor.big_endian(4), cursor.big_endian(4)
    if magic not in (JKS_MAGIC, JCEKS_MAGIC) or version not in _VERSIONS:
        raise JksError(f"no Java keystore header at offset {offset}")
    if not 0 < count * _MIN_ENTRY_BYTES <= cursor.limit - cursor.position:
        raise JksError(f"no entries, or more than fit the bound, at offset {offset}")
    private_keys = [
        entry for _ in range(count) if (entry := _read_entry(cursor, magic, version)) is not None
    ]
    signed_end = cursor.position
    digest = cursor.take(DIGEST_BYTES)
    return JavaKeyStore(
        magic, tuple(private_keys), data[offset:signed_end], digest, cursor.position
    )


def _read_entry(cursor: _Cursor, magic: int, version: int) -> PrivateKeyEntry | None:
    tag = cursor.big_endian(4)
    alias = cursor.take(cursor.big_endian(2))
    cursor.take(8)  # creation date, milliseconds since 1970
    if tag == TAG_PRIVATE_KEY:
        protected_key = cursor.der()
        chain_length = cursor.big_endian(4)
        if chain_length > _MAX_CHAIN:
            raise JksError(f"implausible certificate chain at offset {cursor.position - 4}")
        for _ in range(chain_length):
            _read_certificate(cursor, version)
        return PrivateKeyEntry(alias, protected_key)
    if tag == TAG_TRUSTED_CERT:
        _read_certificate(cursor, version)
        return None
    if tag == TAG_SECRET_KEY and magic == JCEKS_MAGIC:
        _skip_sealed_object(cursor)
        return None
    raise JksError(f"unknown entry tag at offset {cursor.position}")


def _read_certificate(cursor: _Cursor, version: int) -> None:
    if version == 2:
        cursor.take(cursor.big_endian(2))
    cursor.der()


def _skip_sealed_object(cursor: _Cursor) -> None:
    try:
        cursor.position = serialization_stream_end(cursor.data, cursor.position, cursor.limit)
    except SerializationError as error:
        raise JksError(str(error)) from None


class _JavaKeyStoreParser(Parser):
    kind: ClassVar[PayloadKind]
    magic: ClassVar[int]
    max_length = MAX_LENGTH

    def parse(self, window: Window, position: int) -> Iterable[Candidate]:
        limit = min(len(window.data), position + self.max_length)
        try:
            store = read_java_keystore(window.data, position, limit)
        except JksError:
            return ()
        if store.magic != self.magic:
            return ()
        end = store.end
        payload = Payload(self.kind, window.data[position:end])
        encoding = self.kind.value
        return (Candidate(self.name, encoding, window.start + position, end - position, payload),)


class JksParser(_JavaKeyStoreParser):
    name = "keystore-jks"
    kind = PayloadKind.JKS
    magic = JKS_MAGIC


class JceksParser(_JavaKeyStoreParser):
    name = "keystore-jceks"
    kind = PayloadKind.JCEKS
    magic = JCEKS_MAGIC
