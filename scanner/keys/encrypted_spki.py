"""Encrypted private keys whose public half is stored in the clear beside them.

PuTTY PPK files and OpenPGP Secret-Key packets keep the public key unencrypted
(so a client can offer it before asking for the passphrase).  Their detectors
check the encrypted part's structure and hand over the public half as a
SubjectPublicKeyInfo; the finding is an encrypted private key with that key's
algorithm and fingerprint, as for an encrypted OpenSSH key.
"""

from __future__ import annotations

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from scanner.detectors.der_spki import subject_public_key_info_end
from scanner.errors import KeyProofError
from scanner.keys.base import Key, KeyKind
from scanner.keys.describe import key_for


def prove_encrypted_spki(spki: bytes) -> Key:
    if subject_public_key_info_end(spki, 0, len(spki)) != len(spki):
        raise KeyProofError("bytes follow the encrypted key's public half")
    try:
        public_key = serialization.load_der_public_key(spki)
    except (ValueError, UnsupportedAlgorithm):
        raise KeyProofError("the encrypted key's public half does not load") from None
    return key_for(KeyKind.ENCRYPTED, public_key)
