"""Build every sample into a staging dir beside the out dir, then swap it in.

The swap makes a re-run idempotent: the out dir is either the previous
complete set or the new complete set, never a half-built mix.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from samplegen import keys
from samplegen.catalogue import KnownSources, build_catalogue
from samplegen.catalogue_encodings import add_encoding_files
from samplegen.containers import make_containers
from samplegen.dumps import make_dumps
from samplegen.encodings_dump import make_encodings_dump
from samplegen.errors import SampleError
from samplegen.known_keys import KnownKeyEntry, write_encoding_known_keys, write_known_keys
from samplegen.manifest import (
    KNOWN_KEYS,
    KNOWN_KEYS_RAW,
    Artifact,
    ExpectedFinding,
    KnownIdLookup,
    artifact,
    write_manifest,
)
from samplegen.planted import write_all
from samplegen.raw_dumps import RAW_DUMPS, make_raw_dumps
from samplegen.tools import require_tools

# gcore first: it is the one most often missing, and its hint names the package (gdb).
REQUIRED_TOOLS = [
    "gcore", "gdb", "openssl", "ssh-keygen", "gzip", "zstd", "xz", "lz4", "bzip2", "java", "javac",
    "keytool", "puttygen", "gpg", "gpgconf",
]  # fmt: skip
PTRACE_SCOPE = Path("/proc/sys/kernel/yama/ptrace_scope")
PTRACE_DISABLED = "3"  # Yama: no process may ptrace, not even root (kernel docs, Yama LSM)
GCORE_KID = "python-pem-rsa"
# What a build writes at the top of the out dir; anything else there is someone else's.
OWN_ENTRIES = frozenset(
    {
        "dumps",
        "planted",
        "containers",
        KNOWN_KEYS,
        RAW_DUMPS,
        KNOWN_KEYS_RAW,
        "keys",
        "manifest.json",
    }
)
ED25519_KID = "planted-ed25519"


def check_prerequisites() -> None:
    require_tools(REQUIRED_TOOLS)
    if PTRACE_SCOPE.exists() and PTRACE_SCOPE.read_text().strip() == PTRACE_DISABLED:
        raise SampleError(
            f"{PTRACE_SCOPE} is 3 (ptrace disabled until reboot): gcore cannot attach"
        )


def build(out_dir: Path, quick: bool) -> Path:
    """Make every sample and the manifest in `out_dir`, replacing what was there."""
    check_prerequisites()
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.building-", dir=out_dir.parent))
    try:
        build_into(staging, quick)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    replace_dir(staging, out_dir)
    return out_dir / "manifest.json"


def replace_dir(built: Path, target: Path) -> None:
    """Put `built` at `target` with renames only (same parent, so same file system).

    Entries of `target` this builder does not make (samples/bench_image.py also
    writes under samples/out/) are moved into `built` first, so they survive.
    """
    retired = target.with_name(f".{target.name}.old-{os.getpid()}")
    shutil.rmtree(retired, ignore_errors=True)
    if target.exists():
        for entry in target.iterdir():
            if entry.name not in OWN_ENTRIES and not (built / entry.name).exists():
                entry.rename(built / entry.name)
        target.rename(retired)
    built.rename(target)
    shutil.rmtree(retired, ignore_errors=True)


def build_into(out_dir: Path, quick: bool) -> None:
    keys_dir = out_dir / "keys"
    keys_dir.mkdir(mode=0o700)
    utf16_key = keys.generate("python-utf16", "EC-P256", keys_dir)
    dumps = make_dumps(out_dir, keys_dir, utf16_key)
    raw_dumps = make_raw_dumps(out_dir, keys_dir)
    catalogue = build_catalogue(keys_dir, quick)
    first_encoding_file = len(catalogue.files)
    add_encoding_files(catalogue)
    planted = write_all(catalogue.files, out_dir)
    dumps.append(make_encodings_dump(out_dir, keys_dir, catalogue.held))
    known_entries = write_all_known_keys(out_dir, keys_dir, catalogue.known)
    known_id = known_id_lookup(known_entries)
    raw_known_id = known_id_lookup(raw_dumps.known_entries)
    encoding_paths = [made.path for made in planted[first_encoding_file:]]
    containers = make_containers(
        out_dir, {made.path: made for made in dumps + planted}, encoding_paths
    )
    artifacts = [artifact(made, known_id) for made in dumps + planted + containers]
    artifacts += [artifact(made, raw_known_id) for made in raw_dumps.made]
    artifacts.append(
        known_keys_artifact(
            KNOWN_KEYS, "public halves of sampled keys for --known-keys", known_entries
        )
    )
    artifacts.append(
        known_keys_artifact(
            KNOWN_KEYS_RAW,
            "public halves of the dumps-raw keys for --known-keys",
            raw_dumps.known_entries,
        )
    )
    write_manifest(out_dir, artifacts, quick)


def write_all_known_keys(out_dir: Path, keys_dir: Path, known: KnownSources) -> list[KnownKeyEntry]:
    assert known.spki_pem is not None
    assert known.certificate is not None
    assert known.authorized_keys is not None
    jwks_keys = [(keys.load(keys_dir / "python-pem.pem"), GCORE_KID)]
    jwks_keys += [(key, ED25519_KID) for key in known.jwks]
    entries = write_known_keys(
        out_dir, known.spki_pem, known.certificate, jwks_keys, known.authorized_keys
    )
    encodings = known.encodings
    assert encodings.spki_pem is not None
    assert encodings.certificate is not None
    assert encodings.authorized_keys is not None
    return entries + write_encoding_known_keys(
        out_dir,
        encodings.spki_pem,
        encodings.certificate,
        encodings.jwks,
        encodings.authorized_keys,
    )


def known_id_lookup(entries: list[KnownKeyEntry]) -> KnownIdLookup:
    """The id a known-keys dir gives a fingerprint (None for keys it does not hold)."""
    known_ids = {entry.fingerprint: entry.key_id for entry in entries}

    def known_id(fingerprint: str | None) -> str | None:
        return known_ids.get(fingerprint) if fingerprint is not None else None

    return known_id


def known_keys_artifact(path: str, description: str, entries: list[KnownKeyEntry]) -> Artifact:
    """A known-keys dir; its "findings" list the keys it defines (see README)."""
    findings = tuple(
        ExpectedFinding(
            entry.display_path, None, entry.kind, entry.algorithm, entry.fingerprint, entry.key_id
        )
        for entry in entries
    )
    return Artifact(path, KNOWN_KEYS, description, findings)
