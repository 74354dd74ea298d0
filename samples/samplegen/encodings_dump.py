"""dumps/python-encodings.core: one real process holding every issue #4 key encoding.

The structures are the planted files' own (catalogue_encodings.py, each with
its own key), written one file each into a build area under keys/ that
holders/hold_encodings.py reads; the process is dumped with gcore like the
other holders (dumps.py) and the build area is removed.  Offsets in a core are
not known in advance: the manifest lists each distinct key the core holds
(kind, algorithm, fingerprint), and since every encoding has its own key, the
fingerprint names the encoding that must have been found.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from samplegen.catalogue import Held
from samplegen.dumps import dump_and_check, made, start_python_holder, stop, wait_ready
from samplegen.errors import SampleError
from samplegen.keys import KeyFact
from samplegen.manifest import Made

NAME = "python-encodings"
BUILD_AREA = "held-encodings"  # under keys/ (mode 0700), removed after the dump
DESCRIPTION = (
    "Python process holding every issue #4 encoding's planted structure, text as str and "
    "binary as bytes: UTF-16BE PEM, base64/base64url DER, JWK (raw, escaped), JWKS, "
    ".NET XML (ASCII, UTF-16LE), CNG RSA2/RSA3/ECS2 and CAPI blobs, PPK v2/v3 (puttygen), "
    "OpenPGP (gpg), PKCS#12 and JKS (changeit)"
)


def make_encodings_dump(out_dir: Path, keys_dir: Path, held: list[Held]) -> Made:
    build_area = keys_dir / BUILD_AREA
    build_area.mkdir(mode=0o700)
    try:
        for structure in held:
            suffix = ".txt" if structure.as_text else ".bin"
            (build_area / f"{structure.name}{suffix}").write_bytes(structure.data)
        holder = start_python_holder(NAME, "hold_encodings.py", [str(build_area)], DESCRIPTION)
        try:
            wait_ready(holder)
            core_path = dump_and_check(
                holder, out_dir / "dumps", lambda core: check_every_structure(core, held)
            )
        finally:
            stop(holder)
    finally:
        shutil.rmtree(build_area, ignore_errors=True)
    return made(holder, core_path, out_dir, distinct_facts(held))


def check_every_structure(core: bytes, held: list[Held]) -> None:
    missing = [structure.name for structure in held if structure.data not in core]
    if missing:
        raise SampleError(f"{NAME}: not in the core: {', '.join(missing)}")


def distinct_facts(held: list[Held]) -> tuple[KeyFact, ...]:
    """Each distinct key once (the two keystores give the same fingerprint-less fact)."""
    return tuple(dict.fromkeys(fact for structure in held for fact in structure.facts))
