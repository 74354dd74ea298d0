"""Holder 1b: a Python process holding a PEM only as UTF-16LE text.

Usage: hold_utf16.py KEY_FILE

Reads the PEM (an EC P-256 key the builder made) straight into a bytearray
with an unbuffered FileIO.readinto, so no buffered reader and no str ever
holds an ASCII copy.  Widens it to UTF-16LE by extended-slice assignment
(bytes only, no str: a CPython str of ASCII text stores one byte per char,
which would be an ASCII copy), then zeroes the ASCII bytearray in place.
This script imports nothing that could hold a PEM header (no cryptography,
no ssl) and contains no PEM header literal, so any ASCII header in the core
would be a leak the builder reports.  Prints "READY" and sleeps until killed.
"""

from __future__ import annotations

import io
import os
import sys
import time

SLEEP_SECONDS = 600  # the builder kills us right after the dump


def read_exactly(path: str) -> bytearray:
    size = os.stat(path).st_size
    ascii_text = bytearray(size)
    with io.FileIO(path, "r") as raw:
        if raw.readinto(ascii_text) != size:
            raise SystemExit(f"{path}: short read")
    return ascii_text


def widen_to_utf16le(ascii_text: bytearray) -> bytearray:
    # UTF-16LE of ASCII: each byte followed by a zero byte.
    wide_text = bytearray(2 * len(ascii_text))
    wide_text[0::2] = ascii_text
    return wide_text


def main(key_file: str) -> None:
    ascii_text = read_exactly(key_file)
    wide_text = widen_to_utf16le(ascii_text)
    ascii_text[:] = bytearray(len(ascii_text))  # same length: overwritten in place
    print("READY", flush=True)
    time.sleep(SLEEP_SECONDS)
    print(len(wide_text), len(ascii_text))


if __name__ == "__main__":
    main(sys.argv[1])
