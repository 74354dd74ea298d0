"""Walking what the user named: files, directories, stdin, fifos; and expand on plain files."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from scanner.config import MiB
from scanner.sources import CONTAINERS, Skipped, Spool, iter_inputs
from scanner.sources.base import Blob
from scanner.sources.files import expand, walk

REPO_ROOT = Path(__file__).resolve().parents[2]
MARKER = b"DUMPGUARD-MARKER-" + bytes(range(256))
WALK_TIMEOUT = 20  # seconds; a walk that opens a fifo would block forever


@pytest.fixture
def spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Spool]:
    """Work in tmp_path (paths named as a user types them), spool under it."""
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "spool"
    root.mkdir()
    with Spool(64 * MiB, root) as made:
        yield made


def write(path: str, data: bytes = MARKER) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


def names(items: list[Blob | Skipped]) -> list[str]:
    return [item.display_path for item in items]


def walk_with_timeout(paths: list[str], spool: Spool) -> list[Blob | Skipped]:
    """walk() in a thread, so a walk that blocks fails the test instead of hanging it."""
    found: list[Blob | Skipped] = []
    worker = threading.Thread(target=lambda: found.extend(walk(paths, None, spool)), daemon=True)
    worker.start()
    worker.join(WALK_TIMEOUT)
    assert not worker.is_alive(), "walk blocked"
    return found


def feed_pipe(data: bytes) -> BinaryIO:
    """The read end of a real pipe, written from a thread (more than a pipe buffer holds)."""
    read_fd, write_fd = os.pipe()

    def produce() -> None:
        with os.fdopen(write_fd, "wb") as writer:
            writer.write(data)

    threading.Thread(target=produce, daemon=True).start()
    return os.fdopen(read_fd, "rb")


# --- files and directories ---------------------------------------------------------------


def test_file_is_one_blob_named_as_given(spool: Spool) -> None:
    write("sub/x.core")

    assert list(walk(["sub/x.core", "./sub/x.core"], None, spool)) == [
        Blob("sub/x.core", Path("sub/x.core"), len(MARKER)),
        Blob("./sub/x.core", Path("./sub/x.core"), len(MARKER)),
    ]


def test_directory_walk_is_recursive_and_sorted(spool: Spool) -> None:
    write("dumps/b.core")
    write("dumps/a.core")
    write("dumps/sub/c.core")
    write("dumps/sub/deeper/d.core")
    Path("dumps/empty").mkdir()

    assert names(list(walk(["dumps"], None, spool))) == [
        "dumps/a.core",
        "dumps/b.core",
        "dumps/sub/c.core",
        "dumps/sub/deeper/d.core",
    ]
    assert names(list(walk(["dumps/"], None, spool)))[0] == "dumps/a.core"


def test_symlinks_are_followed_and_loops_end(spool: Spool) -> None:
    write("outside.core", b"outside")
    write("dumps/a.core")
    os.symlink("../outside.core", "dumps/link.core")
    os.symlink(".", "dumps/loop")  # dumps/loop/loop/loop/... forever if followed blindly
    os.symlink("..", "dumps/up")  # back to the working directory, which holds dumps/
    os.symlink("self", "dumps/self")  # a symlink to itself
    os.symlink("missing", "dumps/dangling")

    found = walk_with_timeout(["dumps"], spool)

    assert found == [
        Blob("dumps/a.core", Path("dumps/a.core"), len(MARKER)),
        Skipped("dumps/dangling", None, None, "no such file or directory"),
        Blob("dumps/link.core", Path("dumps/link.core"), len(b"outside")),
        Skipped("dumps/self", None, None, "too many levels of symbolic links"),
        Blob("dumps/up/outside.core", Path("dumps/up/outside.core"), len(b"outside")),
    ]
    assert Path("dumps/link.core").read_bytes() == b"outside"


def test_deep_directory_tree_is_walked(spool: Spool) -> None:
    deep = "d"
    for _ in range(1500):  # deeper than Python's recursion limit (os.makedirs recurses)
        os.mkdir(deep)
        deep += "/d"
    write(f"{deep}.core")
    try:
        assert names(list(walk(["d"], None, spool))) == [f"{deep}.core"]
    finally:
        remove_deep_tree(f"{deep}.core")


def remove_deep_tree(leaf: str) -> None:
    """Remove the tree with a loop: pytest's own temp cleanup recurses and would fail on it."""
    os.unlink(leaf)
    directory = os.path.dirname(leaf)
    while directory:
        os.rmdir(directory)
        directory = os.path.dirname(directory)


def test_missing_path_is_skipped_and_the_walk_goes_on(spool: Spool) -> None:
    write("here.core")

    assert list(walk(["gone.core", "here.core"], None, spool)) == [
        Skipped("gone.core", None, None, "no such file or directory"),
        Blob("here.core", Path("here.core"), len(MARKER)),
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_and_directory_are_skipped(spool: Spool) -> None:
    write("locked.core").chmod(0)
    write("closed/x.core")
    Path("closed").chmod(0)
    try:
        found = list(walk(["locked.core", "closed"], None, spool))
    finally:
        Path("closed").chmod(0o755)

    assert found == [
        Skipped("locked.core", None, None, "permission denied"),
        Skipped("closed", None, None, "permission denied"),
    ]


def test_special_files_in_a_directory_are_skipped_unopened(spool: Spool) -> None:
    write("dumps/a.core")
    os.mkfifo("dumps/fifo")  # opening it would block: no writer ever comes

    assert walk_with_timeout(["dumps"], spool) == [
        Blob("dumps/a.core", Path("dumps/a.core"), len(MARKER)),
        Skipped("dumps/fifo", None, None, "not a regular file"),
    ]


def test_fifo_named_directly_is_read_like_stdin(spool: Spool) -> None:
    # What bash's `dumpguard scan <(zcat dump.gz)` hands over.
    os.mkfifo("fifo")
    data = os.urandom(3 * MiB)

    def produce() -> None:
        Path("fifo").write_bytes(data)

    threading.Thread(target=produce, daemon=True).start()
    found = walk_with_timeout(["fifo"], spool)

    assert len(found) == 1
    blob = found[0]
    assert isinstance(blob, Blob)
    assert (blob.display_path, blob.size) == ("fifo", len(data))
    assert blob.file.read_bytes() == data


def test_hostile_file_names_are_made_printable(spool: Spool) -> None:
    Path("dumps").mkdir()
    raw_name = b"dumps/bad\xff\nname.core"
    with open(raw_name, "wb") as out:
        out.write(MARKER)

    found = list(walk(["dumps"], None, spool))

    assert len(found) == 1
    blob = found[0]
    assert isinstance(blob, Blob)
    assert blob.display_path == "dumps/bad\ufffd?name.core"
    assert blob.file.read_bytes() == MARKER


# --- stdin -------------------------------------------------------------------------------


def test_stdin_from_a_real_pipe_is_spooled(spool: Spool) -> None:
    data = os.urandom(3 * MiB)

    found = list(walk(["-"], feed_pipe(data), spool))

    assert len(found) == 1
    blob = found[0]
    assert isinstance(blob, Blob)
    assert (blob.display_path, blob.size, blob.depth) == ("-", len(data), 0)
    assert blob.file.read_bytes() == data


def test_stdin_without_a_stream_is_skipped(spool: Spool) -> None:
    assert list(walk(["-"], None, spool)) == [
        Skipped("-", None, None, "standard input is not available")
    ]


def test_stdin_past_the_expansion_limit_is_skipped(tmp_path: Path) -> None:
    with Spool(MiB, tmp_path) as small:
        found = list(walk(["-"], feed_pipe(bytes(2 * MiB)), small))

    assert len(found) == 1
    refusal = found[0]
    assert isinstance(refusal, Skipped)
    assert refusal.display_path == "-"
    assert refusal.reason.startswith(f"-: expands past the limit of {MiB} bytes")


def test_process_stdin_gzip_is_read_through_iter_inputs(tmp_path: Path) -> None:
    compressed = subprocess.run(["gzip", "-c"], input=MARKER, capture_output=True, check=True)
    write(str(tmp_path / "dump.gz"), compressed.stdout)
    program = (
        "from scanner.sources import iter_inputs, Spool\n"
        "for blob, chain in iter_inputs(['-'], lambda: Spool(1 << 24)):\n"
        "    print(blob.display_path, chain, blob.file.read_bytes() == MARKER)\n"
    )
    with (tmp_path / "dump.gz").open("rb") as stdin:
        result = subprocess.run(
            [sys.executable, "-c", f"MARKER = {MARKER!r}\n{program}"],
            stdin=stdin,
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO_ROOT,
        )

    assert result.stdout == "- gzip True\n"


# --- expand and iter_inputs on plain files -----------------------------------------------


def test_plain_file_expands_to_itself(spool: Spool) -> None:
    blob = Blob("x.core", write("x.core"), len(MARKER))

    assert list(expand(blob, spool, 16, CONTAINERS)) == [(blob, None)]


def test_iter_inputs_names_members_under_the_directory(tmp_path: Path) -> None:
    compressed = subprocess.run(["zstd", "-q", "-c"], input=MARKER, capture_output=True, check=True)
    write(str(tmp_path / "dumps" / "x.core.zst"), compressed.stdout)
    write(str(tmp_path / "dumps" / "y.core"))
    spool_root = tmp_path / "spool"
    spool_root.mkdir()
    top = str(tmp_path / "dumps")

    found = [
        (item.display_path, item.reason)
        if isinstance(item, Skipped)
        else (item[0].display_path, item[1])
        for item in iter_inputs([top, "-"], lambda: Spool(MiB, spool_root), stdin=feed_pipe(b"raw"))
    ]

    assert found == [(f"{top}/x.core.zst", "zstd"), (f"{top}/y.core", None), ("-", None)]
    assert list(spool_root.iterdir()) == []
