"""A key's private numbers in the byte layouts live processes keep them in.

A process that has loaded a key keeps it as numbers, not as PEM or DER:

    be             big-endian bytes (a decoded DER INTEGER, a Java byte[] from
                   BigInteger.toByteArray, PKCS#11 attributes)
    le             little-endian bytes: OpenSSL's BIGNUM is an array of 64-bit
                   limbs, least significant limb first, each limb little-endian
                   on x86-64, so the whole number reads as little-endian bytes
    be32-words-le  32-bit words, most significant word first, each word
                   little-endian: a JVM BigInteger's `int[] mag`

Each pattern is the number's minimal form (no leading zero bytes for be and le,
no leading zero word for be32-words-le), so it matches whatever padding the
holder adds after the top limb or before the top byte; its offset is where the
pattern starts.  Nothing here prints, logs or returns number bytes outside this
module's search: callers get component names, layout names and offsets only.
"""

from __future__ import annotations

from collections.abc import Iterator

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from samplegen.errors import SampleError
from samplegen.keys import SampleKey
from samplegen.manifest import RawLayout

LAYOUTS = ("be", "le", "be32-words-le")
RSA_COMPONENTS = ("p", "q", "d")
EC_SCALAR = "ec-scalar"
# Where a component is held must be found in at least one layout: a prime (RSA) or the
# scalar (EC).  d alone does not count: RSA search starts from a prime of the known n.
REQUIRED_COMPONENTS = {"RSA": ("p", "q"), "EC": (EC_SCALAR,)}
# A dump may hold many copies (freed heap, GC survivor spaces); a few offsets per
# component and layout tell the scanner's authors where to look, all of them add nothing.
MAX_OFFSETS_PER_PATTERN = 8


def private_numbers(key: SampleKey) -> dict[str, int]:
    """The private components the raw-number search looks for, by manifest name."""
    private_key = key.private_key
    if isinstance(private_key, rsa.RSAPrivateKey):
        numbers = private_key.private_numbers()
        return {"p": numbers.p, "q": numbers.q, "d": numbers.d}
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return {EC_SCALAR: private_key.private_numbers().private_value}
    raise SampleError(f"{key.name}: no raw-number layout for {type(private_key).__name__}")


def layout_bytes(value: int, layout: str) -> bytes:
    """`value` in one of LAYOUTS, minimal length (see the module docstring)."""
    if layout == "be":
        return value.to_bytes(byte_length(value), "big")
    if layout == "le":
        return value.to_bytes(byte_length(value), "little")
    if layout == "be32-words-le":
        word_count = (value.bit_length() + 31) // 32
        words = value.to_bytes(4 * word_count, "big")
        return b"".join(words[start : start + 4][::-1] for start in range(0, len(words), 4))
    raise ValueError(f"unknown layout {layout!r}")


def byte_length(value: int) -> int:
    return max(1, (value.bit_length() + 7) // 8)


def offsets_of(pattern: bytes, data: bytes) -> Iterator[int]:
    position = data.find(pattern)
    while position != -1:
        yield position
        position = data.find(pattern, position + 1)


def find_layouts(core: bytes, key: SampleKey) -> tuple[RawLayout, ...]:
    """Every (component, layout, offset) of the key's private numbers in `core`."""
    found: list[RawLayout] = []
    for component, value in private_numbers(key).items():
        for layout in LAYOUTS:
            offsets = offsets_of(layout_bytes(value, layout), core)
            for _, offset in zip(range(MAX_OFFSETS_PER_PATTERN), offsets, strict=False):
                found.append(RawLayout(component, layout, offset))
    return tuple(found)


def require_a_component(name: str, key: SampleKey, found: tuple[RawLayout, ...]) -> None:
    algorithm = key.fact().algorithm
    assert algorithm is not None
    required = REQUIRED_COMPONENTS[algorithm]
    if not any(entry.component in required for entry in found):
        wanted = " or ".join(required)
        raise SampleError(f"{name}: the key's {wanted} is in none of the layouts {LAYOUTS}")
