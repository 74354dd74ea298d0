"""Known public keys (--known-keys): load them from files and index them by fingerprint.

`load_known_keys(paths)` reads each file, or each file under each directory
(recursively, in sorted order, hidden entries skipped, every directory entered
once so symlink loops end), picks the first loader in `LOADERS` whose probe
accepts the bytes, and builds a `KnownKeyIndex`.  Any unusable entry stops
loading with a one-line `KnownKeyError` naming the file and line: a known-keys
set that silently lost a key would let a leaked key pass as unknown.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import MappingProxyType

from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from scanner.config import MiB
from scanner.keys.base import KnownKey
from scanner.keys.known.base import KnownKeyLoader, LoadedKey, known_key_error
from scanner.keys.known.der import DerLoader
from scanner.keys.known.jwk import JwkLoader
from scanner.keys.known.pem import PemLoader
from scanner.keys.known.ssh import SshLoader
from scanner.keys.known.ssh2 import Ssh2Loader

__all__ = [
    "LOADERS",
    "KnownKeyIndex",
    "LoadedKey",
    "load_bytes",
    "load_file",
    "load_known_keys",
]

# Probe order, first match wins.  Armoured text first (PEM, RFC 4716), then
# JSON, then OpenSSH lines, whose probe would also see a key line quoted in a
# PEM file's commentary; DER needs its outer length to span the whole file.
LOADERS: tuple[KnownKeyLoader, ...] = (
    PemLoader(),
    Ssh2Loader(),
    JwkLoader(),
    SshLoader(),
    DerLoader(),
)

# A CA bundle is well under 1 MiB; the bound keeps a wrong path (a dump given
# as --known-keys) from being read into memory whole.
MAX_KNOWN_KEYS_FILE_BYTES = 64 * MiB


class KnownKeyIndex:
    """Known keys by fingerprint; immutable once built.

    The same key given twice (two files, two formats) keeps the id and source
    of its first appearance; `keys` is in load order.
    """

    __slots__ = ("_by_fingerprint", "_keys", "_loaded")

    def __init__(self, loaded: Iterable[LoadedKey] = ()) -> None:
        by_fingerprint: dict[str, LoadedKey] = {}
        for item in loaded:
            by_fingerprint.setdefault(item.known.fingerprint, item)
        self._loaded = tuple(by_fingerprint.values())  # dicts keep first-insertion order
        self._keys = tuple(item.known for item in self._loaded)
        self._by_fingerprint = MappingProxyType(by_fingerprint)

    @property
    def keys(self) -> tuple[KnownKey, ...]:
        return self._keys

    def lookup(self, fingerprint: str) -> KnownKey | None:
        item = self._by_fingerprint.get(fingerprint)
        return None if item is None else item.known

    def public_keys(self) -> Iterator[tuple[KnownKey, PublicKeyTypes]]:
        """Each known key with its parsed public key, in load order."""
        for item in self._loaded:
            yield item.known, item.public_key

    def __len__(self) -> int:
        return len(self._loaded)

    def __repr__(self) -> str:
        return f"KnownKeyIndex({len(self)} keys)"


def load_known_keys(paths: Sequence[Path]) -> KnownKeyIndex:
    """Every public key in `paths` (files or directories); KnownKeyError on any bad entry."""
    entered_directories: set[tuple[int, int]] = set()
    loaded: list[LoadedKey] = []
    for path in paths:
        for file_path in _files_under(path, entered_directories):
            loaded.extend(load_file(file_path))
    return KnownKeyIndex(loaded)


def load_file(path: Path) -> list[LoadedKey]:
    """The keys of one known-keys file, in file order; never empty."""
    return load_bytes(_read_file(path), path)


def load_bytes(data: bytes, path: Path) -> list[LoadedKey]:
    """The keys in `data`, the content of `path` (named in ids, sources and errors)."""
    loader = next((loader for loader in LOADERS if loader.probe(data, path)), None)
    if loader is None:
        reason = "empty file" if not data.strip() else "no recognised key format"
        raise known_key_error(path, None, f"no public key found ({reason})")
    keys = loader.load(data, path)
    if not keys:
        raise known_key_error(path, None, f"no public key found (empty {loader.name} file)")
    return keys


def _files_under(path: Path, entered_directories: set[tuple[int, int]]) -> Iterator[Path]:
    """Files at or under `path`, depth first in sorted order.

    An explicit stack rather than recursion: directory depth is the user's
    to choose, the interpreter's recursion limit is not.
    """
    pending = [path]
    while pending:
        current = pending.pop()
        status = _stat(current)
        if not stat.S_ISDIR(status.st_mode):
            yield current
            continue
        directory_id = (status.st_dev, status.st_ino)
        if directory_id in entered_directories:  # a symlink loop, or the same tree twice
            continue
        entered_directories.add(directory_id)
        # Hidden entries (.git, .DS_Store, editor swap files) are not key files.
        children = [current / name for name in _sorted_names(current) if not name.startswith(".")]
        pending.extend(reversed(children))


def _stat(path: Path) -> os.stat_result:
    try:
        return path.stat()  # follows symlinks: a link to a directory is walked
    except OSError as error:
        raise known_key_error(path, None, f"cannot open ({error.strerror})") from None


def _sorted_names(directory: Path) -> list[str]:
    try:
        return sorted(os.listdir(directory))
    except OSError as error:
        raise known_key_error(directory, None, f"cannot list ({error.strerror})") from None


def _read_file(path: Path) -> bytes:
    # Checked before open: opening a FIFO or a terminal for reading can block forever.
    if not stat.S_ISREG(_stat(path).st_mode):
        raise known_key_error(path, None, "not a regular file")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_KNOWN_KEYS_FILE_BYTES + 1)
    except OSError as error:
        raise known_key_error(path, None, f"cannot read ({error.strerror})") from None
    if len(data) > MAX_KNOWN_KEYS_FILE_BYTES:
        limit_mib = MAX_KNOWN_KEYS_FILE_BYTES // MiB
        raise known_key_error(path, None, f"larger than {limit_mib} MiB; not a known-keys file")
    return data
