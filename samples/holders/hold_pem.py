"""Holder 1a: a Python process that made an RSA-2048 key and keeps its PEM text.

Usage: hold_pem.py KEY_FILE

Generates the key with `cryptography`, serializes it to PEM (PKCS#8, no
encryption), loads the PEM back with load_pem_private_key, writes the PEM to
KEY_FILE (so the sample builder and the tests can check the dump against it),
then prints "READY" and sleeps until killed.  `pem` and `loaded` stay
referenced for the whole sleep, so the PEM text is in the heap when gcore runs.
The public key is never serialized here: an SPKI DER left in the heap would be
a second (public-key) finding, and the sample promises exactly one private key.
"""

from __future__ import annotations

import sys
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SLEEP_SECONDS = 600  # the builder kills us right after the dump


def main(key_file: str) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    loaded = serialization.load_pem_private_key(pem, password=None)
    with open(key_file, "wb") as stream:
        stream.write(pem)
    print("READY", flush=True)
    time.sleep(SLEEP_SECONDS)
    # Keep both alive past the sleep so nothing can collect them before the dump.
    print(len(pem), type(loaded).__name__)


if __name__ == "__main__":
    main(sys.argv[1])
