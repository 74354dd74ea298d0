"""Containers on real files made by the real tools: gzip, zstd, xz, bzip2, lz4, tar, zip."""

from __future__ import annotations

import contextlib
import functools
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.config import MiB
from scanner.errors import ExpansionLimitError, SourceError
from scanner.sources import CONTAINERS, Skipped, Spool, container_for, iter_inputs
from scanner.sources.base import Blob
from scanner.sources.files import expand

CODEC_COMMANDS = {
    "gzip": ["gzip", "-c"],
    "zstd": ["zstd", "-q", "-c"],
    "xz": ["xz", "-c", "-T1"],
    "bzip2": ["bzip2", "-c"],
    "lz4": ["lz4", "-q", "-c"],
}
CODECS = sorted(CODEC_COMMANDS)
MARKER = b"DUMPGUARD-MARKER-" + bytes(range(256)) * 64


@dataclass(frozen=True)
class Leaf:
    display_path: str
    chain: str | None
    data: bytes
    depth: int


def compress(codec: str, data: bytes, *extra_args: str) -> bytes:
    command = [*CODEC_COMMANDS[codec], *extra_args]
    return subprocess.run(command, input=data, capture_output=True, check=True).stdout


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def tar_of(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def zip_of(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.fixture
def spool_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in tmp_path (inputs named as a user would type them); spool under it."""
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "spool"
    root.mkdir()
    return root


def scan(
    paths: Sequence[str], spool_root: Path, max_expansion: int = 64 * MiB, max_depth: int = 16
) -> list[Leaf | Skipped]:
    """Everything iter_inputs yields, each leaf read while it is still spooled."""
    results: list[Leaf | Skipped] = []
    for item in iter_inputs(paths, lambda: Spool(max_expansion, spool_root), max_depth=max_depth):
        if isinstance(item, Skipped):
            results.append(item)
        else:
            blob, chain = item
            results.append(Leaf(blob.display_path, chain, blob.file.read_bytes(), blob.depth))
    return results


def spooled_files(spool_root: Path) -> list[Path]:
    return [path for path in spool_root.rglob("*") if path.is_file()]


def unpack_all(path: Path, spool: Spool) -> list[Blob | Skipped]:
    blob = Blob(path.name, path, path.stat().st_size)
    container = container_for(blob.head())
    assert container is not None
    return list(container.unpack(blob, spool))


# --- every codec and archive round-trips -------------------------------------------------


@pytest.mark.parametrize("codec", CODECS)
def test_codec_round_trips_and_keeps_the_name(spool_root: Path, codec: str) -> None:
    write(Path(f"x.core.{codec}"), compress(codec, MARKER))

    assert scan([f"x.core.{codec}"], spool_root) == [Leaf(f"x.core.{codec}", codec, MARKER, 1)]
    assert spooled_files(spool_root) == []


@pytest.mark.parametrize(
    "flags",
    [[], ["--no-check"], ["--no-content-size"], ["-19"], ["--long=27", "-T2"], ["-B4096"]],
)
def test_zstd_frames_written_with_any_option_are_read(spool_root: Path, flags: list[str]) -> None:
    # Several blocks per frame: the truncation check walks every block header.
    data = os.urandom(300_000) + bytes(500_000) + MARKER
    write(Path("x.zst"), compress("zstd", data, *flags))

    assert scan(["x.zst"], spool_root) == [Leaf("x.zst", "zstd", data, 1)]


def test_zstd_stream_without_content_size_from_a_pipe(spool_root: Path) -> None:
    data = MARKER * 50
    producer = subprocess.run(
        ["zstd", "-q", "-c", "-"], input=data, capture_output=True, check=True
    )
    write(Path("piped.zst"), producer.stdout)

    assert scan(["piped.zst"], spool_root) == [Leaf("piped.zst", "zstd", data, 1)]


def test_tar_members_come_out_in_order(spool_root: Path) -> None:
    tar_of(Path("a.tar"), {"one.core": MARKER, "dir/two.core": b"second"})

    assert scan(["a.tar"], spool_root) == [
        Leaf("a.tar!one.core", "tar", MARKER, 1),
        Leaf("a.tar!dir/two.core", "tar", b"second", 1),
    ]


@pytest.mark.parametrize(
    "method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]
)
def test_zip_members_come_out_for_every_method(spool_root: Path, method: int) -> None:
    zip_of(Path("a.zip"), {"one.core": MARKER, "two.core": b"second"}, method)

    assert scan(["a.zip"], spool_root) == [
        Leaf("a.zip!one.core", "zip", MARKER, 1),
        Leaf("a.zip!two.core", "zip", b"second", 1),
    ]


def test_gnu_tar_v7_archive_without_magic_is_found(spool_root: Path) -> None:
    Path("old.core").write_bytes(MARKER)
    subprocess.run(["tar", "--format=v7", "-cf", "old.tar", "old.core"], check=True)
    assert b"ustar" not in Path("old.tar").read_bytes()[:512]

    assert scan(["old.tar"], spool_root) == [Leaf("old.tar!old.core", "tar", MARKER, 1)]


# --- magic bytes decide, never the file name -----------------------------------------


def test_gzip_named_txt_is_opened(spool_root: Path) -> None:
    write(Path("notes.txt"), compress("gzip", MARKER))

    assert scan(["notes.txt"], spool_root) == [Leaf("notes.txt", "gzip", MARKER, 1)]


def test_raw_file_named_like_archives_is_scanned_as_is(spool_root: Path) -> None:
    for name in ("raw.gz", "raw.zip", "raw.tar", "raw.zst"):
        write(Path(name), MARKER)

    leaves = scan(["raw.gz", "raw.zip", "raw.tar", "raw.zst"], spool_root)

    assert leaves == [
        Leaf(name, None, MARKER, 0) for name in ("raw.gz", "raw.zip", "raw.tar", "raw.zst")
    ]


@pytest.mark.parametrize(
    "head",
    [
        b"BZh9 is how a bzip2 file starts, but this is text" + bytes(600),
        b"PK\x01\x02 central directory entry, not a zip start" + bytes(600),
        b"\x1f\x8b\x07 gzip ids with an undefined method" + bytes(600),
        bytes(1024),
    ],
)
def test_near_miss_magic_is_not_a_container(head: bytes) -> None:
    assert container_for(head) is None


def test_zstd_behind_a_skippable_frame_is_found(spool_root: Path) -> None:
    skippable = b"\x50\x2a\x4d\x18" + (6).to_bytes(4, "little") + b"label!"
    write(Path("x.bin"), skippable + compress("zstd", MARKER) + skippable)

    assert scan(["x.bin"], spool_root) == [Leaf("x.bin", "zstd", MARKER, 1)]


# --- nesting -------------------------------------------------------------------------


def test_tar_gz_inside_zip_inside_zstd(spool_root: Path) -> None:
    tar_of(Path("inner.tar"), {"dump.core": MARKER})
    write(Path("inner.tar.gz"), compress("gzip", Path("inner.tar").read_bytes()))
    zip_of(Path("bundle.zip"), {"inner.tar.gz": Path("inner.tar.gz").read_bytes()})
    write(Path("bundle.zip.zst"), compress("zstd", Path("bundle.zip").read_bytes()))

    assert scan(["bundle.zip.zst"], spool_root) == [
        Leaf("bundle.zip.zst!inner.tar.gz!dump.core", "zstd+zip+gzip+tar", MARKER, 4)
    ]
    assert spooled_files(spool_root) == []


def test_tgz_member_of_a_tar(spool_root: Path) -> None:
    tar_of(Path("c.tar"), {"c.core": MARKER})
    tgz = compress("gzip", Path("c.tar").read_bytes())
    tar_of(Path("a.tar"), {"b.tgz": tgz, "plain.txt": b"plain"})

    assert scan(["a.tar"], spool_root) == [
        Leaf("a.tar!b.tgz!c.core", "tar+gzip+tar", MARKER, 3),
        Leaf("a.tar!plain.txt", "tar", b"plain", 1),
    ]


def test_depth_limit_refuses_deeper_containers(spool_root: Path) -> None:
    tar_of(Path("a.tar"), {"a.core": MARKER})
    write(Path("a.tar.gz"), compress("gzip", Path("a.tar").read_bytes()))

    assert scan(["a.tar.gz"], spool_root, max_depth=1) == [
        Skipped(
            "a.tar.gz",
            "gzip+tar",
            Path("a.tar").stat().st_size,  # the decoded tar is what would be unpacked
            "nested deeper than 1 containers",
        )
    ]
    assert scan(["a.tar.gz"], spool_root, max_depth=2) == [
        Leaf("a.tar.gz!a.core", "gzip+tar", MARKER, 2)
    ]
    assert scan(["a.tar.gz"], spool_root, max_depth=0) == [
        Skipped(
            "a.tar.gz", "gzip", Path("a.tar.gz").stat().st_size, "nested deeper than 0 containers"
        )
    ]


# --- concatenated streams --------------------------------------------------------------


@pytest.mark.parametrize("codec", CODECS)
def test_concatenated_streams_are_read_whole(spool_root: Path, codec: str) -> None:
    write(Path("two"), compress(codec, b"first part ") + compress(codec, MARKER))

    assert scan(["two"], spool_root) == [Leaf("two", codec, b"first part " + MARKER, 1)]


# --- decompression bombs ---------------------------------------------------------------


@pytest.fixture(scope="module")
def gzip_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 MB of zeros, gzip'd to under 1 MB."""
    path = tmp_path_factory.mktemp("bomb") / "zeros.gz"
    with path.open("wb") as out:
        zeros = subprocess.Popen(["head", "-c", "200M", "/dev/zero"], stdout=subprocess.PIPE)
        subprocess.run(["gzip", "-1"], stdin=zeros.stdout, stdout=out, check=True)
        zeros.wait()
    return path


def test_bomb_stops_at_the_limit_with_no_leftovers(spool_root: Path, gzip_bomb: Path) -> None:
    shutil.copy(gzip_bomb, "zeros.gz")
    limit = 10 * MiB
    seen_at_refusal: list[Path] = []
    items = []
    for item in iter_inputs(["zeros.gz"], lambda: Spool(limit, spool_root)):
        seen_at_refusal.extend(spooled_files(spool_root))
        items.append(item)

    assert items == [
        Skipped(
            "zeros.gz",
            "gzip",
            gzip_bomb.stat().st_size,
            f"expands past the limit of {limit} bytes "
            "(decompression bomb guard; raise --max-expansion to scan it)",
        )
    ]
    assert seen_at_refusal == []
    assert list(spool_root.iterdir()) == []


def test_bomb_raises_expansion_limit_naming_path_and_limit(tmp_path: Path, gzip_bomb: Path) -> None:
    with Spool(10 * MiB, tmp_path) as spool, pytest.raises(ExpansionLimitError) as raised:
        unpack_all(gzip_bomb, spool)

    assert str(raised.value).startswith(f"zeros.gz: expands past the limit of {10 * MiB} bytes")


@pytest.mark.parametrize("codec", ["zstd", "xz", "bzip2", "lz4"])
def test_every_codec_stops_at_the_limit(tmp_path: Path, codec: str) -> None:
    path = write(tmp_path / "zeros", compress(codec, bytes(20 * MiB)))

    with Spool(2 * MiB, tmp_path) as spool, pytest.raises(ExpansionLimitError):
        unpack_all(path, spool)


def test_budget_is_shared_by_all_members_of_an_input(spool_root: Path) -> None:
    big = bytes(3 * MiB)
    tar_of(Path("many.tar"), {"a.core": big, "b.core": big, "c.core": big, "d.core": big})

    items = scan(["many.tar"], spool_root, max_expansion=7 * MiB)

    assert [item.display_path for item in items] == [
        "many.tar!a.core",
        "many.tar!b.core",
        "many.tar",
    ]
    refusal = items[-1]
    assert isinstance(refusal, Skipped)
    assert refusal.reason.startswith("many.tar!c.core: expands past the limit")


def test_budget_spent_inside_a_member_stops_the_whole_input(spool_root: Path) -> None:
    bomb = compress("gzip", bytes(8 * MiB))
    tar_of(Path("x.tar"), {"a.gz": bomb, "b.core": b"small", "c.core": b"small"})

    items = scan(["x.tar"], spool_root, max_expansion=4 * MiB)

    assert len(items) == 1  # not one more refusal per remaining member
    refusal = items[0]
    assert isinstance(refusal, Skipped)
    assert (refusal.display_path, refusal.format) == ("x.tar!a.gz", "tar+gzip")
    assert refusal.reason.startswith(f"expands past the limit of {4 * MiB} bytes")


# --- damaged inputs --------------------------------------------------------------------


@pytest.mark.parametrize("codec", CODECS)
def test_truncated_stream_is_a_source_error(tmp_path: Path, codec: str) -> None:
    compressed = compress(codec, os.urandom(400_000))
    path = write(tmp_path / "cut", compressed[: len(compressed) * 2 // 3])
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()

    with Spool(64 * MiB, spool_dir) as spool:
        with pytest.raises(SourceError, match=rf"^cut: truncated {codec} stream$"):
            unpack_all(path, spool)
        assert spooled_files(spool_dir) == []  # the partial output is removed


@pytest.mark.parametrize("codec", CODECS)
def test_corrupt_stream_is_a_source_error(tmp_path: Path, codec: str) -> None:
    compressed = bytearray(compress(codec, os.urandom(200_000)))
    middle = len(compressed) // 2
    compressed[middle : middle + 64] = bytes(64)
    path = write(tmp_path / "bad", bytes(compressed))

    with Spool(64 * MiB, tmp_path) as spool, pytest.raises(SourceError, match=r"^bad: corrupt "):
        unpack_all(path, spool)


def test_truncated_stream_is_skipped_and_the_walk_goes_on(spool_root: Path) -> None:
    compressed = compress("xz", MARKER)
    write(Path("cut.xz"), compressed[:-10])
    write(Path("fine.xz"), compressed)

    assert scan(["cut.xz", "fine.xz"], spool_root) == [
        Skipped("cut.xz", "xz", len(compressed) - 10, "truncated xz stream"),
        Leaf("fine.xz", "xz", MARKER, 1),
    ]


def test_gzip_errors_never_quote_input_bytes(tmp_path: Path) -> None:
    compressed = compress("gzip", MARKER)
    trailing_garbage = write(tmp_path / "trailing", compressed + b"SECRET-BYTES")
    bad_crc = bytearray(compressed)
    bad_crc[-8] ^= 0xFF  # RFC 1952: CRC32 then ISIZE close each member
    wrong_checksum = write(tmp_path / "crc", bytes(bad_crc))

    with Spool(MiB, tmp_path) as spool:
        with pytest.raises(SourceError) as garbage_error:
            unpack_all(trailing_garbage, spool)
        with pytest.raises(SourceError) as crc_error:
            unpack_all(wrong_checksum, spool)

    assert str(garbage_error.value) == "trailing: corrupt gzip stream: Not a gzipped file"
    assert str(crc_error.value) == "crc: corrupt gzip stream: CRC check failed"


def corrupt_member_data(path: Path, name: str) -> None:
    """Overwrite the middle of a zip member's stored bytes."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    data = bytearray(path.read_bytes())
    # APPNOTE 4.3.7: 30-byte local header, then file name and extra field.
    name_length = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_length = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_length + extra_length + info.compress_size // 2
    data[start : start + 8] = bytes(b ^ 0xFF for b in data[start : start + 8])
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("method", "reason"),
    [
        (zipfile.ZIP_STORED, "corrupt zip member: Bad CRC-32 for file 'b.core'"),
        (zipfile.ZIP_DEFLATED, "corrupt zip member: "),
    ],
)
def test_corrupt_zip_member_is_skipped_and_others_come_out(
    spool_root: Path, method: int, reason: str
) -> None:
    members = {"a.core": MARKER, "b.core": os.urandom(50_000), "c.core": b"third"}
    zip_of(Path("a.zip"), members, method)
    corrupt_member_data(Path("a.zip"), "b.core")

    items = scan(["a.zip"], spool_root)

    assert items[0] == Leaf("a.zip!a.core", "zip", MARKER, 1)
    assert isinstance(items[1], Skipped)
    assert (items[1].display_path, items[1].format, items[1].size) == (
        "a.zip!b.core",
        "zip",
        50_000,
    )
    assert items[1].reason.startswith(reason)
    assert items[2] == Leaf("a.zip!c.core", "zip", b"third", 1)
    assert spooled_files(spool_root) == []


def test_encrypted_zip_member_is_skipped(spool_root: Path) -> None:
    write(Path("secret.core"), MARKER)
    write(Path("open.core"), b"open")
    subprocess.run(["zip", "-q", "-P", "pw", "locked.zip", "secret.core"], check=True)
    subprocess.run(["zip", "-q", "locked.zip", "open.core"], check=True)

    assert scan(["locked.zip"], spool_root) == [
        Skipped("locked.zip!secret.core", "zip", len(MARKER), "encrypted zip member, not scanned"),
        Leaf("locked.zip!open.core", "zip", b"open", 1),
    ]


def test_unsupported_zip_method_is_skipped(spool_root: Path) -> None:
    zip_of(Path("a.zip"), {"a.core": MARKER}, zipfile.ZIP_STORED)
    data = bytearray(Path("a.zip").read_bytes())
    entry = data.index(b"PK\x01\x02")
    data[entry + 10 : entry + 12] = (98).to_bytes(2, "little")  # APPNOTE 4.4.5: 98 = PPMd
    Path("a.zip").write_bytes(bytes(data))

    assert scan(["a.zip"], spool_root) == [
        Skipped("a.zip!a.core", "zip", len(MARKER), "unsupported zip compression method 98")
    ]


def test_zip_with_broken_central_directory_is_a_source_error(tmp_path: Path) -> None:
    zip_path = zip_of(tmp_path / "a.zip", {"a.core": MARKER})
    write(zip_path, zip_path.read_bytes()[:-30])

    with (
        Spool(64 * MiB, tmp_path) as spool,
        pytest.raises(SourceError, match=r"^a\.zip: unreadable zip central directory: "),
    ):
        unpack_all(zip_path, spool)


def test_empty_zip_is_its_own_leaf(spool_root: Path) -> None:
    zip_of(Path("empty.zip"), {})
    data = Path("empty.zip").read_bytes()
    assert data.startswith(b"PK\x05\x06")

    assert scan(["empty.zip"], spool_root) == [Leaf("empty.zip", "zip", data, 0)]


def test_symlinks_and_directories_in_archives_are_not_followed(spool_root: Path) -> None:
    write(Path("real.core"), MARKER)
    Path("dir").mkdir()
    Path("link").symlink_to("/etc/passwd")
    os.mkfifo("fifo")
    subprocess.run(["tar", "-cf", "a.tar", "dir", "link", "fifo", "real.core"], check=True)
    subprocess.run(["zip", "-q", "-y", "a.zip", "link", "real.core"], check=True)

    assert scan(["a.tar", "a.zip"], spool_root) == [
        Leaf("a.tar!real.core", "tar", MARKER, 1),
        Leaf("a.zip!real.core", "zip", MARKER, 1),
    ]


def test_corrupt_tar_header_fails_the_archive_after_earlier_members(spool_root: Path) -> None:
    tar_of(Path("a.tar"), {"one.core": b"first", "two.core": b"second", "three.core": b"third"})
    data = bytearray(Path("a.tar").read_bytes())
    second = data.index(b"two.core")  # a ustar header starts with the member name
    data[second + 148 : second + 156] = b"9999999\x00"  # not an octal checksum
    Path("a.tar").write_bytes(bytes(data))

    items = scan(["a.tar"], spool_root)

    assert items == [
        Leaf("a.tar!one.core", "tar", b"first", 1),
        Skipped("a.tar", "tar", len(data), f"corrupt tar header at offset {second}"),
    ]


def test_truncated_tar_member_is_skipped(spool_root: Path) -> None:
    tar_of(Path("a.tar"), {"one.core": b"first", "two.core": os.urandom(10_000)})
    data = Path("a.tar").read_bytes()
    cut = data.index(b"two.core") + 512 + 5000
    Path("a.tar").write_bytes(data[:cut])

    assert scan(["a.tar"], spool_root) == [
        Leaf("a.tar!one.core", "tar", b"first", 1),
        Skipped("a.tar!two.core", "tar", 10_000, "truncated tar member"),
        Skipped("a.tar", "tar", cut, "unreadable tar archive: unexpected end of data"),
    ]


def test_huge_archive_header_is_refused_not_loaded(spool_root: Path) -> None:
    with tarfile.open("big.tar", "w", format=tarfile.PAX_FORMAT) as archive:
        info = tarfile.TarInfo("a.core")
        info.pax_headers = {"comment": "x" * (17 * MiB)}  # one 17 MiB pax record
        info.size = len(MARKER)
        archive.addfile(info, io.BytesIO(MARKER))

    items = scan(["big.tar"], spool_root)

    assert len(items) == 1
    refusal = items[0]
    assert isinstance(refusal, Skipped)
    assert (refusal.display_path, refusal.format) == ("big.tar", "tar")
    assert refusal.reason.startswith("archive header of ")
    assert refusal.reason.endswith(f"exceeds the {16 * MiB} byte limit")


def test_hostile_member_names_are_made_printable(spool_root: Path) -> None:
    tar_of(Path("a.tar"), {"evil\nname\x1b[31m.core": MARKER})

    assert scan(["a.tar"], spool_root) == [Leaf("a.tar!evil?name?[31m.core", "tar", MARKER, 1)]


# --- spool lifetime --------------------------------------------------------------------


def test_member_file_is_released_when_the_consumer_moves_on(spool_root: Path) -> None:
    tar_of(Path("a.tar"), {"one.core": b"first", "two.core": b"second"})
    items = iter_inputs(["a.tar"], lambda: Spool(MiB, spool_root))

    first = next(items)
    assert isinstance(first, tuple)
    assert first[0].file.read_bytes() == b"first"
    second = next(items)
    assert not first[0].file.exists()
    assert isinstance(second, tuple)
    assert second[0].file.exists()
    assert list(items) == []
    assert list(spool_root.iterdir()) == []


def test_spool_close_removes_its_directory(tmp_path: Path) -> None:
    spool = Spool(MiB, tmp_path)
    blob = spool.write("x", io.BytesIO(MARKER), depth=1)
    assert blob.file.read_bytes() == MARKER

    spool.close()

    assert list(tmp_path.iterdir()) == []


def test_abandoned_iteration_still_removes_spooled_files(spool_root: Path) -> None:
    tar_of(Path("a.tar"), {"one.core": b"first", "two.core": b"second"})
    items = iter_inputs(["a.tar"], lambda: Spool(MiB, spool_root))
    next(items)

    items.close()

    assert list(spool_root.iterdir()) == []


# --- hostile bytes ---------------------------------------------------------------------

MAGIC_HEADS = {
    "gzip": b"\x1f\x8b\x08",
    "zstd": b"\x28\xb5\x2f\xfd",
    "xz": b"\xfd7zXZ\x00",
    "bzip2": b"BZh91AY&SY",
    "lz4": b"\x04\x22\x4d\x18",
    "zip": b"PK\x03\x04",
    "zip-empty": b"PK\x05\x06",
}
HYPOTHESIS_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def ustar_head(tail: bytes) -> bytes:
    header = bytearray(tail[:512].ljust(512, b"\x00"))
    header[257:262] = b"ustar"
    return bytes(header) + tail[512:]


def unpack_only_source_errors(path: Path, work: Path) -> None:
    """Unpack to the end under a 1 MiB budget: nothing but SourceError may escape.

    Then expand it: expand turns every failure into a Skipped and raises nothing.
    """
    blob = Blob("x", path, path.stat().st_size)
    container = container_for(blob.head())
    with Spool(MiB, work) as spool:
        if container is not None:
            with contextlib.suppress(SourceError):
                list(container.unpack(blob, spool))
        assert all(isinstance(item, Skipped | tuple) for item in expand(blob, spool, 4, CONTAINERS))
    assert list(work.iterdir()) == [path]


@HYPOTHESIS_SETTINGS
@given(name=st.sampled_from([*MAGIC_HEADS, "tar"]), tail=st.binary(max_size=3000))
def test_random_bytes_after_magic_raise_only_source_error(
    tmp_path: Path, name: str, tail: bytes
) -> None:
    data = ustar_head(tail) if name == "tar" else MAGIC_HEADS[name] + tail
    path = write(tmp_path / "fuzz", data)
    container = container_for(data[:4096])
    assert container is not None

    unpack_only_source_errors(path, tmp_path)


@functools.cache
def valid_containers() -> dict[str, bytes]:
    """One small real file per container (cached: hypothesis reruns the test body)."""
    payload = bytes(range(256)) * 8 + MARKER
    made = {codec: compress(codec, payload) for codec in CODECS}
    with tempfile.TemporaryDirectory() as work:
        made["tar"] = tar_of(Path(work) / "a.tar", {"a": payload, "b": b"b"}).read_bytes()
        made["zip"] = zip_of(Path(work) / "a.zip", {"a": payload, "b": MARKER}).read_bytes()
    return made


@HYPOTHESIS_SETTINGS
@given(
    name=st.sampled_from([*CODECS, "tar", "zip"]),
    cut=st.floats(min_value=0.0, max_value=1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), max_size=6),
)
def test_damaged_real_containers_raise_only_source_error(
    tmp_path: Path, name: str, cut: float, flips: list[tuple[float, int]]
) -> None:
    data = bytearray(valid_containers()[name])
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    data = data[: max(12, int(cut * len(data)))]
    path = write(tmp_path / "damaged", bytes(data))

    unpack_only_source_errors(path, tmp_path)


def test_empty_archives_are_reported_as_themselves(tmp_path: Path) -> None:
    empty_zip = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty_zip, "w"):
        pass
    only_dirs = tmp_path / "dirs.tar"
    (tmp_path / "d").mkdir()
    with tarfile.open(only_dirs, "w") as archive:
        archive.add(tmp_path / "d", arcname="d")
    leaves = list(iter_inputs([str(empty_zip), str(only_dirs)], lambda: Spool(1 << 30)))
    assert [(item[0].display_path, item[1]) for item in leaves if isinstance(item, tuple)] == [
        (str(empty_zip), "zip"),
        (str(only_dirs), "tar"),
    ]
