"""Files, directories and stdin in; containers opened down to the blobs to scan.

`walk` turns the paths a user gave into top-level blobs; `expand` opens the
containers inside one blob, to any depth up to a limit, and yields the leaves.
Failures are data: a path or member that cannot be read is a `Skipped` record
and the walk goes on.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from scanner.errors import ExpansionLimitError, SourceError
from scanner.sources.base import Blob, Container, Skipped, Spool
from scanner.sources.streams import display_name

STDIN_PATH = "-"

# A leaf to scan and the containers it came through, e.g. "gzip+tar" (None
# for a file that is not in any container).
Leaf = tuple[Blob, str | None]


def _reason(error: OSError) -> str:
    """The strerror, lowercased: "no such file or directory", "permission denied"."""
    return (error.strerror or str(error)).lower()


def _spool_input(display_path: str, stream: BinaryIO, spool: Spool) -> Blob | Skipped:
    try:
        return spool.write(display_path, stream, depth=0)
    except ExpansionLimitError as error:
        return Skipped(display_path, None, None, str(error))
    except OSError as error:
        return Skipped(display_path, None, None, _reason(error))


def _stdin_blob(stdin: BinaryIO | None, spool: Spool) -> Blob | Skipped:
    """Standard input, spooled: readers need to seek, a pipe cannot."""
    if stdin is None:
        return Skipped(STDIN_PATH, None, None, "standard input is not available")
    return _spool_input(STDIN_PATH, stdin, spool)


def _special_blob(path: str, spool: Spool) -> Blob | Skipped:
    """A fifo or device named on the command line, e.g. bash's `<(zcat dump.gz)`.

    Named explicitly, it is read like stdin; found inside a directory it is
    never opened (opening a fifo with no writer blocks forever).
    """
    try:
        with open(path, "rb") as stream:
            return _spool_input(path, stream, spool)
    except OSError as error:
        return Skipped(path, None, None, _reason(error))


def _file_blob(path: str, size: int) -> Blob | Skipped:
    try:
        Path(path).open("rb").close()  # a regular file: opening cannot block
    except OSError as error:
        return Skipped(path, None, None, _reason(error))
    return Blob(display_path=display_name(path), file=Path(path), size=size)


class _DirectoryWalk:
    """Every regular file under one directory, depth first in name order.

    Symlinks are followed; a directory already walked (same st_dev, st_ino) is
    not walked again, so symlink loops end.  An explicit stack of sorted
    listings keeps deep trees clear of the recursion limit.
    """

    def __init__(self) -> None:
        self._visited: set[tuple[int, int]] = set()
        self._pending: list[Iterator[str]] = []

    def files(self, top: str, top_status: os.stat_result) -> Iterator[Blob | Skipped]:
        yield from self._enter(top, top_status)
        while self._pending:
            path = next(self._pending[-1], None)
            if path is None:
                self._pending.pop()
            else:
                yield from self._visit(path)

    def _enter(self, directory: str, status: os.stat_result) -> Iterator[Skipped]:
        """Queue the directory's entries, unless it was walked already."""
        identity = (status.st_dev, status.st_ino)
        if identity in self._visited:
            return
        self._visited.add(identity)
        try:
            names = sorted(os.listdir(directory))
        except OSError as error:
            yield Skipped(display_name(directory), None, None, _reason(error))
            return
        self._pending.append(iter([os.path.join(directory, name) for name in names]))

    def _visit(self, path: str) -> Iterator[Blob | Skipped]:
        try:
            status = os.stat(path)  # follows symlinks
        except OSError as error:
            yield Skipped(display_name(path), None, None, _reason(error))
            return
        if stat.S_ISDIR(status.st_mode):
            yield from self._enter(path, status)
        elif stat.S_ISREG(status.st_mode):
            yield _file_blob(path, status.st_size)
        else:  # fifo, device, socket: never opened
            yield Skipped(display_name(path), None, None, "not a regular file")


def _walk_path(path: str, spool: Spool) -> Iterator[Blob | Skipped]:
    try:
        status = os.stat(path)
    except OSError as error:
        yield Skipped(path, None, None, _reason(error))
        return
    if stat.S_ISDIR(status.st_mode):
        yield from _DirectoryWalk().files(path, status)
    elif stat.S_ISREG(status.st_mode):
        yield _file_blob(path, status.st_size)
    else:
        yield _special_blob(path, spool)


def walk(paths: Sequence[str], stdin: BinaryIO | None, spool: Spool) -> Iterator[Blob | Skipped]:
    """Top-level blobs for the paths a user gave, in the order given.

    A file is one blob named as given; a directory yields every regular file
    under it (sorted, symlinks followed, loops cut), named under the directory
    as given; "-" is `stdin`, spooled to `spool`, as is a fifo or device named
    directly.  A path that cannot be read is a `Skipped` with the reason
    ("no such file or directory", "permission denied", "not a regular file").
    """
    for path in paths:
        if path == STDIN_PATH:
            yield _stdin_blob(stdin, spool)
        else:
            yield from _walk_path(path, spool)


def find_container(containers: Sequence[Container], head: bytes) -> Container | None:
    """The first container whose probe accepts `head` (registry order decides)."""
    return next((container for container in containers if container.probe(head)), None)


class _BudgetSpentError(Exception):
    """The expansion budget of the input is spent: nothing more of it can be spooled."""


def expand(
    blob: Blob, spool: Spool, max_depth: int, containers: Sequence[Container]
) -> Generator[Leaf | Skipped, None, None]:
    """The leaves of `blob`: itself when no container probes, else its members' leaves.

    Members are named by `Blob.member_path` in archives and keep their
    container's name through compression layers (``a.tar.gz!b.core``).  A
    member nested in more than `max_depth` containers is not unpacked, nor is
    one whose container fails to unpack: each becomes a `Skipped` (its
    `format` the container chain so far) and the walk goes on.  When the
    spool's expansion limit is hit, a `Skipped` names the container that hit
    it and the rest of this blob is not expanded (the budget is shared, every
    later member would fail the same way).

    Lifetime: a leaf that is a spooled member stays on disk until the
    consumer resumes this generator (asks for the next item or closes it);
    it is then removed.  Scan a leaf before moving on; never keep its path.
    """
    expansion = _Expansion(spool, max_depth, tuple(containers))
    try:
        yield from expansion.leaves(blob, ())
    except _BudgetSpentError:
        return


@dataclass(frozen=True)
class _Expansion:
    """One blob's expansion: where members spool, how deep, which containers."""

    spool: Spool
    max_depth: int
    containers: tuple[Container, ...]

    def leaves(self, blob: Blob, chain: tuple[str, ...]) -> Iterator[Leaf | Skipped]:
        try:
            container = find_container(self.containers, blob.head())
        except OSError as error:
            yield Skipped(blob.display_path, "+".join(chain) or None, blob.size, _reason(error))
            return
        if container is None:
            yield blob, "+".join(chain) or None
            return
        chain = (*chain, container.name)
        if blob.depth + 1 > self.max_depth:
            reason = f"nested deeper than {self.max_depth} containers"
            yield Skipped(blob.display_path, "+".join(chain), blob.size, reason)
            return
        yield from self._member_leaves(container, blob, chain)

    def _member_leaves(
        self, container: Container, blob: Blob, chain: tuple[str, ...]
    ) -> Iterator[Leaf | Skipped]:
        chain_name = "+".join(chain)
        members = 0
        try:
            for member in container.unpack(blob, self.spool):
                members += 1
                if isinstance(member, Skipped):
                    yield replace(member, format=chain_name)
                    continue
                try:
                    yield from self.leaves(member, chain)
                finally:
                    self.spool.release(member)
            if members == 0:
                # An archive with no regular file (empty, or only directories) is
                # scanned as its own bytes, so it is reported rather than vanishing.
                yield blob, chain_name
        except ExpansionLimitError as error:
            yield Skipped(blob.display_path, chain_name, blob.size, _strip_path(error, blob))
            raise _BudgetSpentError from None
        except SourceError as error:
            yield Skipped(blob.display_path, chain_name, blob.size, _strip_path(error, blob))


def _strip_path(error: SourceError, blob: Blob) -> str:
    """The reason alone: the Skipped record already names the path."""
    return str(error).removeprefix(f"{blob.display_path}: ")
