"""What makes a raw-number dump valid: the key's numbers are in it, its PEM and DER are not.

The search is a plain byte search for the exact encodings cryptography makes
of the key (the DER a DER detector would parse, the PEM text the key file
holds), so it is independent of dumpguard.  Error messages name the dump and
what was found, never bytes of the key.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization

from samplegen.errors import SampleError
from samplegen.keys import SampleKey
from samplegen.manifest import RawEvidence
from samplegen.raw_numbers import find_layouts, require_a_component

Encoding = serialization.Encoding
PrivateFormat = serialization.PrivateFormat


def der_forms(key: SampleKey) -> dict[str, bytes]:
    """PKCS#8 and the traditional form (PKCS#1 for RSA, SEC1 for EC) of the key."""
    traditional = "PKCS#1" if key.fact().algorithm == "RSA" else "SEC1"
    return {
        "PKCS#8": key.encode(Encoding.DER, PrivateFormat.PKCS8),
        traditional: key.encode(Encoding.DER, PrivateFormat.TraditionalOpenSSL),
    }


def check_no_der(name: str, core: bytes, key: SampleKey) -> None:
    for form, der in der_forms(key).items():
        if der in core:
            raise SampleError(f"{name}: a {form} DER copy of the key is in the core")


def pem_body_lines(pem: bytes) -> list[bytes]:
    return [line for line in pem.splitlines() if line and not line.startswith(b"-----")]


def check_no_pem(name: str, core: bytes, key_pem: bytes) -> None:
    """Neither the PEM text nor any of its body lines (a partial copy is a leak too)."""
    if key_pem in core:
        raise SampleError(f"{name}: the key's PEM text is in the core")
    if any(line in core for line in pem_body_lines(key_pem)):
        raise SampleError(f"{name}: a PEM body line of the key is in the core")


def check_raw_core(
    name: str, core: bytes, key: SampleKey, key_pem: bytes, pem_may_remain: bool
) -> RawEvidence:
    """Check a raw-number dump and say what it holds.

    `pem_may_remain` is for processes that read the PEM file through buffers
    the sample cannot clear (openssl s_server's stdio buffer): there the
    complete PEM text is recorded, not refused.
    """
    check_no_der(name, core, key)
    if not pem_may_remain:
        check_no_pem(name, core, key_pem)
    layouts = find_layouts(core, key)
    require_a_component(name, key, layouts)
    return RawEvidence(pem_copy_present=key_pem in core, raw_layouts=layouts)
