"""Progress of a long scan: a seam the pipeline reports to, and the terminal display.

The pipeline calls a `ScanProgress` (if given) as it goes: an input starts
(with the bytes its regions hold), chunks of it are scanned, it ends.  The CLI
shows `TerminalProgress` on stderr, and only when stderr is a terminal and
--quiet is not given, so progress never mixes into a report on stdout or into
a pipeline's logs.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


class ScanProgress(Protocol):
    def input_started(self, path: str, size: int) -> None:
        """`path` is being scanned; its regions hold `size` bytes."""

    def scanned(self, count: int) -> None:
        """`count` more bytes of the current input are scanned."""

    def input_finished(self) -> None:
        """The current input is done (scanned, or given up)."""


class TerminalProgress:
    """A one-line rich progress bar: current file, bytes done of its total, rate.

    Used as a context manager; the line is removed when the scan ends.
    """

    def __init__(self, stream: TextIO) -> None:
        # rich is imported here, not at module import: plain scans do not pay for it.
        from rich.console import Console  # noqa: PLC0415
        from rich.progress import (  # noqa: PLC0415
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TransferSpeedColumn,
        )

        self._progress: Progress = Progress(
            TextColumn("{task.fields[inputs]} {task.description}", markup=False),
            BarColumn(),
            DownloadColumn(binary_units=True),
            TransferSpeedColumn(),
            TimeElapsedColumn(),
            console=Console(file=stream),
            transient=True,
        )
        self._task: TaskID | None = None
        self._inputs_done = 0
        self._started = time.monotonic()

    def __enter__(self) -> TerminalProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._progress.stop()

    def input_started(self, path: str, size: int) -> None:
        label = f"[{self._inputs_done + 1}]"
        if self._task is None:
            self._task = self._progress.add_task(path, total=size, inputs=label)
        else:
            self._progress.reset(self._task, total=size, description=path, inputs=label)

    def scanned(self, count: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, count)

    def input_finished(self) -> None:
        self._inputs_done += 1
