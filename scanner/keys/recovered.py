"""Proving keys rebuilt from raw numbers and a known public key.

A raw number (an RSA prime, an EC scalar, an Ed25519 seed) is only a key
together with the known public key it was searched for (`Payload.public_spki`).
Each prover rebuilds the private key, checks the arithmetic, and signs one
message that the known public key must verify: a finding of this kind is a
working private key, not a coincidence of bytes.

One prover per payload kind, registered explicitly here.
"""

from __future__ import annotations

from collections.abc import Callable

from scanner.errors import KeyProofError
from scanner.keys.base import Key, Payload, PayloadKind
from scanner.keys.ec_scalar import prove_ec_scalar
from scanner.keys.ecx_seed import prove_ecx_seed
from scanner.keys.rsa_factor import prove_rsa_factor

Prover = Callable[[Payload], Key]

PROVERS: dict[PayloadKind, Prover] = {
    PayloadKind.EC_SCALAR: prove_ec_scalar,
    PayloadKind.ECX_SEED: prove_ecx_seed,
    PayloadKind.RSA_FACTOR: prove_rsa_factor,
}


def prove_recovered(payload: Payload) -> Key:
    if payload.public_spki is None:
        raise KeyProofError(f"{payload.kind.value} without the known public key it belongs to")
    prover = PROVERS.get(payload.kind)
    if prover is None:
        raise KeyProofError(f"no prover for {payload.kind.value}")
    return prover(payload)
