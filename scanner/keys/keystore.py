"""Keystores (PKCS#12, JKS, JCEKS): proven by structure, opened with the scan's passwords.

`prove_keystore` re-reads the cut-out store whole (the detectors' readers) and
gives a Key of kind "keystore": no fingerprint, since a store is not one key.

`open_keystore` tries, in order, the empty password, the public defaults below
and the passwords of --password-file.  A PKCS#12 store opens when `cryptography`
verifies its MAC and decrypts it; a JKS or JCEKS store when a password gives
its trailing integrity digest.  Every private key inside a store that opens is
handed back as a canonical PKCS#8 payload for the normal prover.  The result
names how the store opened: the empty password, a default by name (they are
public), or "password-file", never a password from the user's file.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

from scanner.detectors.asn1 import (
    TAG_OCTET_STRING,
    TAG_SEQUENCE,
    DerError,
    context_tag,
    encode_integer,
    encode_oid,
    encode_tlv,
)
from scanner.detectors.keystore_jks import (
    JCEKS_MAGIC,
    JKS_MAGIC,
    JavaKeyStore,
    JksError,
    PrivateKeyEntry,
    read_java_keystore,
)
from scanner.detectors.keystore_pkcs12 import DATA_OID, plain_key_bags, read_pfx
from scanner.errors import KeyProofError
from scanner.keys.base import Key, KeyKind, Payload, PayloadKind
from scanner.keys.jks_protector import (
    JCEKS_KEY_PROTECTOR_OID,
    JKS_KEY_PROTECTOR_OID,
    jceks_iterations,
    protection_of,
    recover_jceks_key,
    recover_jks_key,
    store_password_matches,
)

# Passwords that ship as defaults or stand in documentation and samples:
DEFAULT_PASSWORDS: tuple[str, ...] = (
    "changeit",  # the JDK's cacerts truststore (keytool documentation)
    "changeme",  # placeholder in sample server configurations (e.g. Elasticsearch, Graylog)
    "password",  # placeholder in countless how-tos and test fixtures
    "secret",  # Spring Boot reference, "Configure SSL": server.ssl.key-store-password=secret
    "123456",  # top of every leaked-password list; keytool's minimum length is 6
    "keystore",  # the file's own name, a common placeholder
    "android",  # Android SDK debug keystore (~/.android/debug.keystore), store and key
    "notasecret",  # Google Cloud service-account .p12 keys (IAM documentation)
    "storepwd",  # Jetty's demo keystore (etc/keystore), store password
    "keypwd",  # Jetty's demo keystore, key password
)
_KEYSTORE_KINDS = frozenset({PayloadKind.PKCS12, PayloadKind.JKS, PayloadKind.JCEKS})
_JAVA_MAGIC = {PayloadKind.JKS: JKS_MAGIC, PayloadKind.JCEKS: JCEKS_MAGIC}
# JCEKS key passwords cost 2 x iterations MD5 rounds each (200,000 iterations by
# default, about 0.2 s here): a store gets this many rounds in all, so a hostile
# one with thousands of keys cannot stall the scan.
_JCEKS_ROUND_BUDGET = 8_000_000


def is_keystore(kind: PayloadKind) -> bool:
    return kind in _KEYSTORE_KINDS


def prove_keystore(payload: Payload) -> Key:
    """A whole, well-formed store of the payload's kind: KeyProofError otherwise."""
    data = payload.data
    try:
        if payload.kind is PayloadKind.PKCS12:
            end = read_pfx(data, 0, len(data)).end
        else:
            store = read_java_keystore(data, 0, len(data))
            if store.magic != _JAVA_MAGIC.get(payload.kind):
                raise KeyProofError("keystore magic does not match its kind")
            end = store.end
    except (DerError, JksError):
        raise KeyProofError(f"malformed {payload.kind.value} keystore") from None
    if end != len(data):
        raise KeyProofError("bytes follow the keystore")
    return Key(KeyKind.KEYSTORE, None, None, None, None)


@dataclass(frozen=True)
class Password:
    """label: how a report may name it ("empty-password", "default-password:changeit",
    "password-file"); the value itself never leaves this module."""

    label: str
    value: str = field(repr=False)


@dataclass(frozen=True)
class OpenedKey:
    encoding: str  # "<store kind>/<password label>"
    payload: Payload


@dataclass(frozen=True)
class OpenedKeystore:
    """encoding: "<store kind>/<password label>" when the store opened, else None."""

    encoding: str | None
    private_keys: tuple[OpenedKey, ...] = ()


def candidate_passwords(user_passwords: Sequence[str]) -> tuple[Password, ...]:
    """Empty, then the public defaults, then the user's (each value once, first label wins)."""
    ordered = [Password("empty-password", "")]
    ordered += [Password(f"default-password:{value}", value) for value in DEFAULT_PASSWORDS]
    ordered += [Password("password-file", value) for value in user_passwords]
    seen: set[str] = set()
    unique = []
    for password in ordered:
        if password.value not in seen:
            seen.add(password.value)
            unique.append(password)
    return tuple(unique)


def open_keystore(payload: Payload, user_passwords: Sequence[str]) -> OpenedKeystore:
    """Try every candidate password; never raises on a store that does not open."""
    passwords = candidate_passwords(user_passwords)
    try:
        if payload.kind is PayloadKind.PKCS12:
            return _open_pkcs12(payload.data, passwords)
        return _open_java(payload.data, payload.kind, passwords)
    except (DerError, JksError):
        return OpenedKeystore(None)


def _open_pkcs12(data: bytes, passwords: Sequence[Password]) -> OpenedKeystore:
    for password in passwords:
        loaded = _load_pkcs12(data, password.value)
        if loaded is None:
            continue
        encoding = f"pkcs12/{password.label}"
        keys = _pkcs12_private_keys(data, loaded.key, password.value)
        return OpenedKeystore(encoding, tuple(OpenedKey(encoding, key) for key in keys))
    return OpenedKeystore(None)


def _load_pkcs12(data: bytes, password: str) -> pkcs12.PKCS12KeyAndCertificates | None:
    """The store as `cryptography` opens it (MAC verified), or None.

    `cryptography` 44+ warns when it falls back from DER to BER (NSS-style
    indefinite lengths): the store is still read, so the warning is only noise.
    """
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "PKCS#12 bundle could not be parsed as DER")
            return pkcs12.load_pkcs12(data, password.encode("utf-8") or None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None


def _pkcs12_private_keys(
    data: bytes, first_key: PrivateKeyTypes | None, password: str
) -> list[Payload]:
    """Every key of the store.  `cryptography` returns only the first key of a
    store, so each key bag of the unencrypted safes is opened on its own too,
    wrapped in a MAC-less PFX of its own (RFC 7292 allows omitting macData)."""
    keys = [first_key] if first_key is not None else []
    try:
        bags = plain_key_bags(data)
    except DerError:
        bags = []  # BER this walker does not follow: the first key is still reported
    for bag in bags:
        loaded = _load_pkcs12(_single_bag_pfx(bag), password)
        if loaded is not None and loaded.key is not None:
            keys.append(loaded.key)
    payloads: list[Payload] = []
    for key in keys:
        payload = Payload(PayloadKind.PKCS8_PRIVATE, _pkcs8(key))
        if payload not in payloads:
            payloads.append(payload)
    return payloads


def _single_bag_pfx(bag: bytes) -> bytes:
    """PFX { 3, data { AuthenticatedSafe { data { SafeContents { bag } } } } }."""
    safe_contents = encode_tlv(TAG_SEQUENCE, bag)
    authenticated_safe = encode_tlv(TAG_SEQUENCE, _data_content_info(safe_contents))
    return encode_tlv(TAG_SEQUENCE, encode_integer(3) + _data_content_info(authenticated_safe))


def _data_content_info(content: bytes) -> bytes:
    """ContentInfo { id-data, [0] EXPLICIT OCTET STRING } (RFC 2315 7, 8)."""
    wrapped = encode_tlv(context_tag(0, constructed=True), encode_tlv(TAG_OCTET_STRING, content))
    return encode_tlv(TAG_SEQUENCE, encode_oid(DATA_OID) + wrapped)


def _pkcs8(key: PrivateKeyTypes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _open_java(data: bytes, kind: PayloadKind, passwords: Sequence[Password]) -> OpenedKeystore:
    store = read_java_keystore(data, 0, len(data))
    store_password = next(
        (p for p in passwords if store_password_matches(store.signed_bytes, store.digest, p.value)),
        None,
    )
    if store_password is None:
        return OpenedKeystore(None)
    # keytool gives each key the store password unless told otherwise: try it first.
    ordered = [store_password, *(p for p in passwords if p != store_password)]
    keys = tuple(_recover_keys(store, kind, ordered))
    return OpenedKeystore(f"{kind.value}/{store_password.label}", keys)


def _recover_keys(
    store: JavaKeyStore, kind: PayloadKind, passwords: Sequence[Password]
) -> Iterator[OpenedKey]:
    budget = _RoundBudget(_JCEKS_ROUND_BUDGET)
    for entry in store.private_keys:
        for password in passwords:
            plaintext = _recover_key(entry, password.value, budget)
            if plaintext is not None:
                payload = Payload(PayloadKind.PKCS8_PRIVATE, plaintext)
                yield OpenedKey(f"{kind.value}/{password.label}", payload)
                break


@dataclass
class _RoundBudget:
    """MD5 rounds a store may still spend on JCEKS key passwords."""

    remaining: int

    def spend(self, rounds: int) -> bool:
        if rounds > self.remaining:
            return False
        self.remaining -= rounds
        return True


def _recover_key(entry: PrivateKeyEntry, password: str, budget: _RoundBudget) -> bytes | None:
    """The entry's PrivateKeyInfo DER under `password`, by the scheme its OID names."""
    try:
        oid, parameters, ciphertext = protection_of(entry.protected_key)
        if oid == JKS_KEY_PROTECTOR_OID:
            return recover_jks_key(ciphertext, password)
        if oid != JCEKS_KEY_PROTECTOR_OID:
            return None
        salt, iterations = jceks_iterations(parameters)
    except DerError:
        return None
    if not budget.spend(2 * iterations):
        return None
    return recover_jceks_key(ciphertext, salt, iterations, password)
