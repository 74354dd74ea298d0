"""Known-key component searches, registered explicitly (see base.py)."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.hazmat.primitives import serialization

from scanner.detectors.components.base import (
    AddressSpace,
    ComponentSearch,
    KnownPublicKey,
    SearchConfig,
)
from scanner.detectors.components.ec_scalar import EcScalarSearch
from scanner.detectors.components.ecx_seed import EcxSeedSearch
from scanner.detectors.components.rsa_factor import RsaFactorSearch
from scanner.keys.known import KnownKeyIndex

SEARCHES: tuple[type[ComponentSearch], ...] = (EcScalarSearch, EcxSeedSearch, RsaFactorSearch)


def known_public_keys(index: KnownKeyIndex) -> list[KnownPublicKey]:
    return [
        KnownPublicKey(
            known,
            public_key,
            public_key.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        )
        for known, public_key in index.public_keys()
    ]


def build_searches(index: KnownKeyIndex, config: SearchConfig) -> list[ComponentSearch]:
    """The searches that apply to the known keys (none without --known-keys)."""
    keys: Sequence[KnownPublicKey] = known_public_keys(index)
    if not keys:
        return []
    built = (search.for_keys(keys, config) for search in SEARCHES)
    return [search for search in built if search is not None]


__all__ = [
    "SEARCHES",
    "AddressSpace",
    "ComponentSearch",
    "KnownPublicKey",
    "SearchConfig",
    "build_searches",
]
