"""OpenSSH private keys: the openssh-key-v1 blob (OpenSSH PROTOCOL.key).

    "openssh-key-v1\\0" string ciphername, string kdfname, string kdfoptions,
    uint32 N (= 1), string publickey, string private section, [AEAD tag]

The public key in the header is stored in the clear, so even an encrypted key
yields its algorithm and fingerprint.  An unencrypted key is loaded by
`cryptography` and must carry the same public half as the header.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from scanner.errors import KeyProofError
from scanner.keys.base import Key, KeyKind
from scanner.keys.checks import check_private_key
from scanner.keys.describe import key_for

_MAGIC = b"openssh-key-v1\x00"
_NONE = b"none"
_BCRYPT = b"bcrypt"
_ARMOR_BEGIN = b"-----BEGIN OPENSSH PRIVATE KEY-----\n"
_ARMOR_END = b"-----END OPENSSH PRIVATE KEY-----\n"


@dataclass(frozen=True)
class _SshCipher:
    block_bytes: int
    tag_bytes: int


# OpenSSH cipher.c: block sizes, and the AEAD tag that follows the private section.
_CIPHERS = {
    _NONE: _SshCipher(8, 0),
    b"3des-cbc": _SshCipher(8, 0),
    b"aes128-cbc": _SshCipher(16, 0),
    b"aes192-cbc": _SshCipher(16, 0),
    b"aes256-cbc": _SshCipher(16, 0),
    b"aes128-ctr": _SshCipher(16, 0),
    b"aes192-ctr": _SshCipher(16, 0),
    b"aes256-ctr": _SshCipher(16, 0),
    b"aes128-gcm@openssh.com": _SshCipher(16, 16),
    b"aes256-gcm@openssh.com": _SshCipher(16, 16),
    b"chacha20-poly1305@openssh.com": _SshCipher(8, 16),
}


@dataclass(frozen=True)
class OpensshKeyBlob:
    cipher: bytes
    kdf: bytes
    kdf_options: bytes
    public_key: bytes
    private_section: bytes = field(repr=False)
    tag: bytes = field(repr=False)


class _SshReader:
    """RFC 4251 5 uint32 and string fields; lengths are bounded by what is left."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._position = 0

    def uint32(self) -> int:
        if self._position + 4 > len(self._data):
            raise KeyProofError("OpenSSH key is cut off")
        self._position += 4
        return int.from_bytes(self._data[self._position - 4 : self._position], "big")

    def string(self) -> bytes:
        length = self.uint32()
        if length > len(self._data) - self._position:
            raise KeyProofError("OpenSSH key field runs past the key")
        self._position += length
        return self._data[self._position - length : self._position]

    def rest(self) -> bytes:
        return self._data[self._position :]


def read_openssh_blob(blob: bytes) -> OpensshKeyBlob:
    if not blob.startswith(_MAGIC):
        raise KeyProofError("not an openssh-key-v1 blob")
    fields = _SshReader(blob[len(_MAGIC) :])
    cipher, kdf, kdf_options = fields.string(), fields.string(), fields.string()
    if fields.uint32() != 1:
        raise KeyProofError("OpenSSH key file does not hold exactly one key")
    public_key, private_section = fields.string(), fields.string()
    return OpensshKeyBlob(cipher, kdf, kdf_options, public_key, private_section, fields.rest())


def prove_openssh(blob: bytes) -> Key:
    parsed = read_openssh_blob(blob)
    cipher = _CIPHERS.get(parsed.cipher)
    if cipher is None:
        raise KeyProofError("OpenSSH key names an unknown cipher")
    if len(parsed.tag) != cipher.tag_bytes:
        raise KeyProofError("OpenSSH key has the wrong number of trailing bytes")
    if not parsed.private_section or len(parsed.private_section) % cipher.block_bytes:
        raise KeyProofError("OpenSSH private section is not a whole number of blocks")
    if parsed.cipher == _NONE:
        return _prove_unencrypted(blob, parsed)
    _check_bcrypt_options(parsed)
    return key_for(KeyKind.ENCRYPTED, _load_public_blob(parsed.public_key))


def _prove_unencrypted(blob: bytes, parsed: OpensshKeyBlob) -> Key:
    if parsed.kdf != _NONE or parsed.kdf_options:
        raise KeyProofError("unencrypted OpenSSH key names a key derivation function")
    private_key = load_unencrypted_openssh(blob)
    if public_key_blob(private_key.public_key()) != parsed.public_key:
        raise KeyProofError("OpenSSH private key does not match its header public key")
    check_private_key(private_key, stated_points=())
    return key_for(KeyKind.PRIVATE, private_key.public_key())


def _check_bcrypt_options(parsed: OpensshKeyBlob) -> None:
    """PROTOCOL.key: kdfoptions of bcrypt are string salt, uint32 rounds."""
    if parsed.kdf != _BCRYPT:
        raise KeyProofError("encrypted OpenSSH key names an unknown key derivation function")
    options = _SshReader(parsed.kdf_options)
    salt, rounds = options.string(), options.uint32()
    if not salt or rounds < 1 or options.rest():
        raise KeyProofError("OpenSSH bcrypt options are malformed")


def public_key_blob(public_key: PublicKeyTypes) -> bytes:
    """The RFC 4253 6.6 public key blob, as OpenSSH stores it in the header."""
    line = public_key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return base64.b64decode(line.split()[1])


def _load_public_blob(blob: bytes) -> PublicKeyTypes:
    key_type = _SshReader(blob).string()
    try:
        return serialization.load_ssh_public_key(key_type + b" " + base64.b64encode(blob))
    except (ValueError, UnsupportedAlgorithm):
        raise KeyProofError("OpenSSH header public key does not load") from None


def load_unencrypted_openssh(blob: bytes) -> PrivateKeyTypes:
    """The private key of an unencrypted openssh-key-v1 blob, loaded by `cryptography`."""
    armored = _ARMOR_BEGIN + base64.encodebytes(blob) + _ARMOR_END
    try:
        return serialization.load_ssh_private_key(
            armored, password=None, unsafe_skip_rsa_key_validation=True
        )
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise KeyProofError("OpenSSH private key does not load") from None
