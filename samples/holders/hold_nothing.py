"""Holder 1c: a clean control that loads the crypto libraries but holds no key.

Imports cryptography (with its Rust/OpenSSL bindings) and ssl, so libcrypto,
libssl and their read-only strings are mapped as in a real TLS client, but
makes no key, loads no certificate store and reads no key file.  Prints
"READY" and sleeps until killed.
"""

from __future__ import annotations

import ssl
import time

import cryptography
from cryptography.hazmat.primitives import serialization

SLEEP_SECONDS = 600  # the builder kills us right after the dump


def main() -> None:
    print("READY", cryptography.__version__, ssl.OPENSSL_VERSION_NUMBER, flush=True)
    time.sleep(SLEEP_SECONDS)
    print(serialization.__name__)


if __name__ == "__main__":
    main()
