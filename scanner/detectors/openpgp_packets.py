"""OpenPGP Secret-Key and Secret-Subkey packets (RFC 9580 4, 5.5; RFC 4880 4, 5.5).

Packet header (RFC 9580 4.2): one tag octet, then the body length.

    legacy format  10tttt ll   tag in bits 5-2; ll = 0, 1, 2: 1-, 2-, 4-octet length
    OpenPGP format 11tttttt    one octet < 192; 192..223 and one more (two-octet);
                               255 and four more.  Partial lengths (224..254) are
                               for data packets only (4.2.1.4), never for keys.

Secret-Key packet body (tag 5, tag 7 for a subkey), versions 4 and 6:

    version (4 | 6), 4-octet creation time, 1-octet public-key algorithm,
    [v6: 4-octet count of the public key material], public key material,
    S2K usage octet: 0 = the secret material follows in the clear;
        254, 255, 253 or (v4 only) a cipher id = it is encrypted:
        [v6: 1-octet count of the following fields], cipher, [253: AEAD mode],
        [v6: 1-octet S2K specifier length], S2K specifier, IV or AEAD nonce,
        then the encrypted material to the end of the body;
    secret key material, [v4 and usage 0: 2-octet checksum].

Algorithms (RFC 9580 5.5.5, 9.1): RSA 1/2/3 (n, e | d, p, q, u = p^-1 mod q),
DSA 17 (p, q, g, y | x), ECDSA 19 and ECDH 18 (curve OID, point; ECDH adds KDF
parameters | d), EdDSALegacy 22 (OID, 0x40-prefixed point | seed as MPI), and
the v6 raw algorithms X25519 25, X448 26, Ed25519 27, Ed448 28 (native octets).
Elgamal (16) and curves outside `scanner.keys.ec.CURVES` cannot be proven and
give nothing.  A GnuPG stub (S2K 101 "GNU": the secret was left out or lives on
a smartcard) holds no secret and gives nothing.

An unprotected packet becomes the canonical DER of its key; a protected one
gives the SubjectPublicKeyInfo of its public half (ENCRYPTED_SPKI).  The v4
checksum is not verified, for the reason ppk.py gives for the PPK MAC: the
prover decides from the numbers; only the two octets must be there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scanner.detectors.asn1 import DerError, decode_oid
from scanner.detectors.der_spki import ED448, ED25519, X448, X25519, KeyAlgorithm
from scanner.detectors.fields import FieldReader
from scanner.detectors.key_der import (
    RsaNumbers,
    dsa_private_der,
    dsa_public_spki,
    ec_private_der,
    ec_public_spki,
    raw_private_der,
    raw_public_spki,
    rsa_private_der,
    rsa_public_spki,
)
from scanner.keys.base import Payload, PayloadKind
from scanner.keys.ec import CURVE_BY_OID, Curve

SECRET_KEY_TAGS = frozenset({5, 7})  # Secret-Key, Secret-Subkey
# An RSA-16384 secret key packet: n and d 2050 octets each, p, q, u 1026, e and
# the fixed fields under 20: 7.2 KB.  16 KiB bounds every packet read.
MAX_PACKET_LENGTH = 16 * 1024
_MAX_MPI_BITS = 16384
_V4, _V6 = 4, 6
_RSA = frozenset({1, 2, 3})
_DSA, _ECDH, _ECDSA, _EDDSA_LEGACY = 17, 18, 19, 22
_RAW_ALGORITHMS: dict[int, KeyAlgorithm] = {25: X25519, 26: X448, 27: ED25519, 28: ED448}
# Curves whose points are 0x40 || the native public key (RFC 9580 9.2), and the
# one algorithm each goes with.
_NATIVE_CURVES: dict[str, tuple[int, KeyAlgorithm]] = {
    "1.3.6.1.4.1.11591.15.1": (_EDDSA_LEGACY, ED25519),  # Ed25519Legacy
    "1.3.101.113": (_EDDSA_LEGACY, ED448),  # Ed448 (LibrePGP)
    "1.3.6.1.4.1.3029.1.5.1": (_ECDH, X25519),  # Curve25519Legacy
}
_NATIVE_PREFIX = 0x40
_MAX_OID_OCTETS = 10  # the longest curve OID above
# S2K usage octets that announce an S2K specifier (RFC 9580 3.7.2.1).
_USAGE_AEAD, _USAGE_CFB, _USAGE_MALLEABLE_CFB = 253, 254, 255
# Cipher id -> block size (RFC 9580 9.3): the CFB IV is one block.
_BLOCK_BYTES = {1: 8, 2: 8, 3: 8, 4: 8, 7: 16, 8: 16, 9: 16, 10: 16, 11: 16, 12: 16, 13: 16}
_AEAD_NONCE_BYTES = {1: 16, 2: 15, 3: 12}  # EAX, OCB, GCM (RFC 9580 9.6)
_HASHES = frozenset({1, 2, 3, 8, 9, 10, 11, 12, 14})  # RFC 9580 9.5
_S2K_GNU = 101  # GnuPG extension: "GNU" and a mode; a stub, no secret (RFC 9580 3.7.1)


class _MalformedError(Exception):
    """Internal: the bytes are not a secret key packet dumpguard can use."""


@dataclass(frozen=True)
class PacketHeader:
    tag: int
    header_length: int
    body_length: int

    @property
    def length(self) -> int:
        return self.header_length + self.body_length


def read_packet_header(data: bytes, offset: int, limit: int) -> PacketHeader | None:
    """The header at data[offset] if its whole packet lies before `limit`."""
    limit = min(limit, len(data))
    header = data[offset : min(offset + 6, limit)]
    if not header or not header[0] & 0x80:
        return None
    parsed = _openpgp_header(header) if header[0] & 0x40 else _legacy_header(header)
    if parsed is None or offset + parsed.length > limit:
        return None
    return parsed


def _legacy_header(header: bytes) -> PacketHeader | None:
    length_bytes = {0: 1, 1: 2, 2: 4}.get(header[0] & 0x03)  # 3: indeterminate
    if length_bytes is None or len(header) < 1 + length_bytes:
        return None
    body_length = int.from_bytes(header[1 : 1 + length_bytes], "big")
    return PacketHeader((header[0] >> 2) & 0x0F, 1 + length_bytes, body_length)


def _openpgp_header(header: bytes) -> PacketHeader | None:
    tag = header[0] & 0x3F
    first = header[1] if len(header) > 1 else None
    if first is None:
        return None
    if first < 192:
        return PacketHeader(tag, 2, first)
    if first < 224 and len(header) >= 3:
        return PacketHeader(tag, 3, ((first - 192) << 8) + header[2] + 192)
    if first == 255 and len(header) >= 6:
        return PacketHeader(tag, 6, int.from_bytes(header[2:6], "big"))
    return None  # partial body lengths, or cut short


class _Body(FieldReader):
    """Bounded reads of one packet body."""

    error = _MalformedError

    def mpi(self) -> bytes:
        """RFC 9580 3.2: 2-octet bit count, then the big-endian octets."""
        bits = self.big_endian(2)
        if bits > _MAX_MPI_BITS:
            raise _MalformedError
        return self.take((bits + 7) // 8)

    def mpi_int(self) -> int:
        return int.from_bytes(self.mpi(), "big")

    def oid(self) -> str:
        """RFC 9580 5.5.5.5: one length octet (not 0 or 255) and the OID's content octets."""
        length = self.octet()
        if not 0 < length <= _MAX_OID_OCTETS:
            raise _MalformedError
        try:
            return decode_oid(self.take(length))
        except DerError:
            raise _MalformedError from None


@dataclass(frozen=True)
class _PublicKey:
    """The public key material: numbers (RSA n, e; DSA p, q, g, y), or a curve and a point."""

    algorithm: int
    numbers: tuple[int, ...] = field(default=(), repr=False)
    curve: Curve | None = None
    native: KeyAlgorithm | None = None
    point: bytes = field(default=b"", repr=False)


def secret_key_payload(body: bytes) -> Payload | None:
    """The payload of a Secret-Key (or Secret-Subkey) packet body, or None."""
    try:
        return _secret_key_payload(_Body(body))
    except _MalformedError:
        return None


def _secret_key_payload(body: _Body) -> Payload | None:
    version = body.octet()
    if version not in (_V4, _V6):
        return None
    body.take(4)  # creation time
    algorithm = body.octet()
    public = _read_public_material(body, algorithm, version)
    usage = body.octet()
    if usage != 0:
        return _encrypted_payload(body, public, usage, version)
    payload = _private_payload(body, public)
    if version == _V4:
        body.take(2)  # checksum
    return payload if body.rest() == 0 else None


def _read_public_material(body: _Body, algorithm: int, version: int) -> _PublicKey:
    if version == _V6:
        count = body.big_endian(4)
        start = body.position
        public = _public_key(body, algorithm)
        if body.position - start != count:
            raise _MalformedError
        return public
    return _public_key(body, algorithm)


def _public_key(body: _Body, algorithm: int) -> _PublicKey:
    if algorithm in _RSA:
        return _PublicKey(algorithm, (body.mpi_int(), body.mpi_int()))
    if algorithm == _DSA:
        return _PublicKey(algorithm, tuple(body.mpi_int() for _ in range(4)))
    if algorithm in (_ECDSA, _ECDH, _EDDSA_LEGACY):
        return _curve_public_key(body, algorithm)
    native = _RAW_ALGORITHMS.get(algorithm)
    if native is None or native.raw_key_bytes is None:
        raise _MalformedError  # Elgamal, or an algorithm we cannot prove
    return _PublicKey(algorithm, native=native, point=body.take(native.raw_key_bytes))


def _curve_public_key(body: _Body, algorithm: int) -> _PublicKey:
    oid = body.oid()
    point = body.mpi()
    if algorithm == _ECDH:
        _read_kdf_parameters(body)
    if oid in _NATIVE_CURVES:
        curve_algorithm, native = _NATIVE_CURVES[oid]
        if point[:1] != bytes([_NATIVE_PREFIX]) or algorithm != curve_algorithm:
            raise _MalformedError
        return _PublicKey(algorithm, native=native, point=point[1:])
    curve = CURVE_BY_OID.get(oid)
    if curve is None or algorithm == _EDDSA_LEGACY:
        raise _MalformedError  # brainpool and other curves `cryptography` cannot prove
    return _PublicKey(algorithm, curve=curve, point=point)


def _read_kdf_parameters(body: _Body) -> None:
    """RFC 9580 5.5.5.6: size, reserved 0x01, KDF hash, key-wrap cipher."""
    size = body.octet()
    parameters = body.take(size)
    if size < 3 or parameters[0] != 1:  # three octets in RFC 9580
        raise _MalformedError


def _public_spki(public: _PublicKey) -> bytes | None:
    if public.algorithm in _RSA:
        n, e = public.numbers
        return rsa_public_spki(n, e)
    if public.algorithm == _DSA:
        p, q, g, y = public.numbers
        return dsa_public_spki(p, q, g, y)
    if public.curve is not None:
        return ec_public_spki(public.curve, public.point)
    assert public.native is not None
    return raw_public_spki(public.native, public.point)


def _private_payload(body: _Body, public: _PublicKey) -> Payload | None:
    if public.algorithm in _RSA:
        n, e = public.numbers
        d, p, q, u = (body.mpi_int() for _ in range(4))
        # PKCS#1 wants qInv = q^-1 mod p; OpenPGP stores u = p^-1 mod q: swap the primes.
        numbers = RsaNumbers(n=n, e=e, p=q, q=p, d=d, qinv=u)
        return _payload(PayloadKind.PKCS1_PRIVATE, rsa_private_der(numbers))
    if public.algorithm == _DSA:
        p, q, g, y = public.numbers
        return _payload(PayloadKind.DSA_PRIVATE, dsa_private_der(p, q, g, y, body.mpi_int()))
    if public.curve is not None:
        der = ec_private_der(public.curve, body.mpi_int(), public.point)
        return _payload(PayloadKind.SEC1_PRIVATE, der)
    assert public.native is not None
    private_key = _native_private_key(body, public)
    der = raw_private_der(public.native, private_key, public.point)
    return _payload(PayloadKind.PKCS8_PRIVATE, der)


def _native_private_key(body: _Body, public: _PublicKey) -> bytes:
    """The RFC 7748/8032 private key octets.

    v6 raw algorithms store them as they are.  EdDSALegacy stores the seed as
    an MPI (leading zero octets dropped); Curve25519Legacy stores the X25519
    scalar as an MPI of its octets in reverse order (RFC 9580 5.5.5.6.1).
    """
    assert public.native is not None
    size = public.native.raw_key_bytes or 0
    if public.algorithm in _RAW_ALGORITHMS:
        return body.take(size)
    octets = body.mpi()
    if len(octets) > size:
        raise _MalformedError
    big_endian = octets.rjust(size, b"\x00")
    return big_endian[::-1] if public.algorithm == _ECDH else big_endian


def _payload(kind: PayloadKind, der: bytes | None) -> Payload | None:
    return None if der is None else Payload(kind, der)


def _encrypted_payload(body: _Body, public: _PublicKey, usage: int, version: int) -> Payload | None:
    if version == _V6:
        count = body.octet()
        start = body.position
        protected = _read_protection(body, usage, version)
        if body.position - start != count - protected.iv_bytes:
            raise _MalformedError
        body.take(protected.iv_bytes)
    else:
        protected = _read_protection(body, usage, version)
        body.take(protected.iv_bytes)
    if protected.stub or body.rest() == 0:
        return None
    spki = _public_spki(public)
    return None if spki is None else Payload(PayloadKind.ENCRYPTED_SPKI, spki)


@dataclass(frozen=True)
class _Protection:
    """iv_bytes: the IV or nonce that follows; stub: GnuPG's "no secret here" S2K."""

    iv_bytes: int
    stub: bool


def _read_protection(body: _Body, usage: int, version: int) -> _Protection:
    """The conditional S2K fields of RFC 9580 5.5.3, up to (not including) the IV."""
    if usage not in (_USAGE_AEAD, _USAGE_CFB, _USAGE_MALLEABLE_CFB):
        # A bare cipher id (v4 only): CFB with an MD5 simple S2K; the IV follows.
        if version != _V4 or usage not in _BLOCK_BYTES:
            raise _MalformedError
        return _Protection(_BLOCK_BYTES[usage], stub=False)
    if version == _V6 and usage == _USAGE_MALLEABLE_CFB:
        raise _MalformedError  # RFC 9580 5.5.3: v6 keys never use usage 255
    cipher = body.octet()
    aead = body.octet() if usage == _USAGE_AEAD else None
    if version == _V6:
        specifier_length = body.octet()
        start = body.position
        stub = _read_s2k_specifier(body)
        if body.position - start != specifier_length:
            raise _MalformedError
    else:
        stub = _read_s2k_specifier(body)
    if stub:
        return _Protection(0, stub=True)
    if cipher not in _BLOCK_BYTES or (aead is not None and aead not in _AEAD_NONCE_BYTES):
        raise _MalformedError
    iv_bytes = _AEAD_NONCE_BYTES[aead] if aead is not None else _BLOCK_BYTES[cipher]
    return _Protection(iv_bytes, stub=False)


def _read_s2k_specifier(body: _Body) -> bool:
    """RFC 9580 3.7.1; True for GnuPG's stub extension (101 "GNU" mode)."""
    specifier_type = body.octet()
    if specifier_type == 4:  # Argon2: salt 16, t, p, encoded m
        body.take(16 + 3)
        return False
    if specifier_type == _S2K_GNU:
        body.octet()  # hash, unused
        if body.take(3) != b"GNU":
            raise _MalformedError
        return True
    if specifier_type not in (0, 1, 3) or body.octet() not in _HASHES:
        raise _MalformedError
    body.take({0: 0, 1: 8, 3: 9}[specifier_type])  # salt, and the coded count for 3
    return False
