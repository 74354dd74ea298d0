"""Holder 2a: a Python process that loaded an RSA key from PEM, then dropped the PEM.

Usage: hold_dropped_pem.py KEY_FILE

Reads the PEM (an RSA-2048 PKCS#8 key the builder made) straight into a
bytearray with an unbuffered FileIO.readinto (no buffered reader, no bytes or
str copy), loads it with cryptography's load_pem_private_key (which accepts
any buffer), overwrites the bytearray with zeros in place and drops it.  The
key object stays referenced, so the key lives on only inside OpenSSL's RSA
structure: BIGNUMs, little-endian 64-bit limbs.

The PEM-to-DER buffers cryptography's parser frees are glibc heap chunks; the
builder runs this holder with MALLOC_PERTURB_ set so glibc overwrites freed
chunks, else the freed DER stays in the heap with only its first 32 bytes
replaced by allocator pointers.  The public key is never serialized here.
Prints "READY" and sleeps until killed.
"""

from __future__ import annotations

import io
import os
import sys
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

SLEEP_SECONDS = 600  # the builder kills us right after the dump


def read_exactly(path: str) -> bytearray:
    size = os.stat(path).st_size
    pem_text = bytearray(size)
    with io.FileIO(path, "r") as raw:
        if raw.readinto(pem_text) != size:
            raise SystemExit(f"{path}: short read")
    return pem_text


def load_and_drop(path: str) -> PrivateKeyTypes:
    pem_text = read_exactly(path)
    key = serialization.load_pem_private_key(pem_text, password=None)
    pem_text[:] = bytes(len(pem_text))  # same length: overwritten in place
    return key


def main(key_file: str) -> None:
    key = load_and_drop(key_file)
    print("READY", flush=True)
    time.sleep(SLEEP_SECONDS)
    print(type(key).__name__)  # keeps the key referenced past the sleep


if __name__ == "__main__":
    main(sys.argv[1])
