"""Holder: a Python process that keeps every issue #4 key encoding in memory.

Usage: hold_encodings.py DIR

DIR holds one file per structure the builder planted (samplegen/encodings_dump.py):
NAME.txt is kept as a str, the way a program keeps a config value, an
environment variable or a key file's text (CPython stores ASCII text one byte
a character, so the str holds the same bytes); NAME.bin is kept as bytes, the
way it keeps a binary blob, UTF-16 text from a Windows or Java peer, or a
keystore file.  The JSON texts are also parsed, as a program reading its
config would.  Then it prints "READY" and sleeps until killed.  It imports
neither `cryptography` nor `ssl` and computes nothing from the keys, so the
core holds no public key or DER form the builder did not plant.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

SLEEP_SECONDS = 600  # the builder kills us right after the dump


def load(directory: Path) -> tuple[dict[str, str | bytes], list[Any]]:
    held: dict[str, str | bytes] = {}
    parsed: list[Any] = []
    for path in sorted(directory.iterdir()):
        if path.suffix == ".txt":
            text = path.read_text(encoding="utf-8")
            held[path.stem] = text
            if path.stem.startswith("jwk"):
                parsed.append(json.loads(text))
        else:
            held[path.stem] = path.read_bytes()
    return held, parsed


def main(directory: str) -> None:
    held, parsed = load(Path(directory))
    print("READY", flush=True)
    time.sleep(SLEEP_SECONDS)
    # Keep everything alive past the sleep so nothing can collect it before the dump.
    print(len(held), len(parsed))


if __name__ == "__main__":
    main(sys.argv[1])
