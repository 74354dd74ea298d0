"""Sources stage: paths in, blobs to scan out, through any nesting of containers.

The registry is explicit and ordered; the first container whose probe accepts
a blob's first bytes opens it.  File names play no part: a gzip stream named
``.txt`` is opened, a raw file named ``.gz`` is scanned as it is.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Generator, Sequence
from typing import BinaryIO

from scanner.config import DEFAULT_MAX_DEPTH
from scanner.sources.apport import Apport
from scanner.sources.avml import Avml
from scanner.sources.base import Blob, Container, Skipped, Spool
from scanner.sources.bzip2 import Bzip2
from scanner.sources.files import STDIN_PATH, Leaf, expand, find_container, walk
from scanner.sources.gzip import Gzip
from scanner.sources.lz4 import Lz4
from scanner.sources.tar import Tar
from scanner.sources.xz import Xz
from scanner.sources.zip import Zip
from scanner.sources.zstd import Zstd

# Each probe checks fixed magic bytes (apport: a report's first key,
# "ProblemType: "; avml: its block header's magic and version); tar goes
# last because its old v7 form has no magic, only a header checksum.
CONTAINERS: tuple[Container, ...] = (
    Gzip(),
    Zstd(),
    Xz(),
    Bzip2(),
    Lz4(),
    Zip(),
    Apport(),
    Avml(),
    Tar(),
)

__all__ = [
    "CONTAINERS",
    "Blob",
    "Leaf",
    "Skipped",
    "Spool",
    "container_for",
    "iter_inputs",
]


def container_for(head: bytes) -> Container | None:
    """The container that opens a blob starting with `head`, None for a leaf."""
    return find_container(CONTAINERS, head)


def _process_stdin(paths: Sequence[str]) -> BinaryIO | None:
    if STDIN_PATH not in paths or sys.stdin is None:
        return None
    return sys.stdin.buffer


def iter_inputs(
    paths: Sequence[str],
    spool_factory: Callable[[], Spool],
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    stdin: BinaryIO | None = None,
) -> Generator[Leaf | Skipped, None, None]:
    """Every leaf to scan under `paths`, with its container chain, or a Skipped.

    `spool_factory()` makes one Spool per top-level input, so each input has
    its own expansion budget; it is closed (its files removed) once the
    input's last leaf is consumed.  stdin ("-"; default: this process's
    standard input) is spooled to a Spool of its own first, so its size counts
    against the same limit as the expansion of its members.

    A leaf's file is valid until the consumer asks for the next item; see
    `files.expand` for that contract.
    """
    source_stdin = stdin if stdin is not None else _process_stdin(paths)
    with spool_factory() as input_spool:
        for item in walk(paths, source_stdin, input_spool):
            if isinstance(item, Skipped):
                yield item
                continue
            with spool_factory() as spool:
                yield from expand(item, spool, max_depth, CONTAINERS)
            input_spool.release(item)
