"""Atomic file output: a temporary file beside the target, fsync, rename.

A reader (or an interrupted run) sees the old file or the whole new one, never
half of one; on any error the temporary file is removed and the target is left
as it was.  Reports, baselines and exported dumps are written this way.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

from scanner.errors import ReportError


@contextlib.contextmanager
def atomic_binary(path: Path, what: str, mode: int | None = None) -> Iterator[BinaryIO]:
    """`with atomic_binary(path, "dump") as stream:` write bytes; they land on a clean exit.

    mode: permission bits for the new file (default: mkstemp's 0600, private).
    """
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=directory)
    except OSError as error:
        raise ReportError(f"{path}: cannot write {what}: {error.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            if mode is not None:
                os.fchmod(stream.fileno(), mode)
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise ReportError(f"{path}: cannot write {what}: {error.strerror}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise


@contextlib.contextmanager
def atomic_text(path: Path, what: str) -> Iterator[TextIO]:
    """The same for UTF-8 text."""
    with atomic_binary(path, what) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        yield text
        text.flush()
        text.detach()
