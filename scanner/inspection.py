"""What the format readers see in each input, for `dumpguard inspect`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from scanner.config import ScanConfig
from scanner.errors import ScannerError
from scanner.formats import describe, reader_for
from scanner.sources import iter_inputs
from scanner.sources.base import Skipped, Spool


@dataclass(frozen=True)
class Inspected:
    """One leaf input: the reader's view (`view`, from formats.describe) or an error."""

    path: str
    containers: tuple[str, ...]
    view: dict[str, object] | None
    error: str | None


def inspect_inputs(config: ScanConfig, stdin: BinaryIO | None = None) -> Iterator[Inspected]:
    items = iter_inputs(
        config.paths,
        lambda: Spool(config.max_expansion, config.temp_dir),
        max_depth=config.max_depth,
        stdin=stdin,
    )
    for item in items:
        if isinstance(item, Skipped):
            yield Inspected(item.display_path, (), None, item.reason)
            continue
        blob, chain = item
        containers = tuple(chain.split("+")) if chain else ()
        try:
            dump = reader_for(blob.head()).read(blob.file, blob.size)
        except ScannerError as error:
            yield Inspected(blob.display_path, containers, None, str(error))
            continue
        yield Inspected(blob.display_path, containers, describe(dump), None)
