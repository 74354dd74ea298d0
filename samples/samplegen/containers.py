"""Containers around samples, made with the real CLIs (tarfile/zipfile for archives).

Display paths follow dumpguard's sources stage: a compression layer keeps the
path of what it decodes (containers/x.core.gz is reported as itself), and an
archive member is "<archive display path>!<member name>"; so a tar.gz member
is "containers/bundle.tar.gz!<name>" and the xz'd member of the zip is
"containers/bundle.zip!<name>.xz"; a tar.zst member is
"containers/encodings.tar.zst!<name>".
"""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

from samplegen.manifest import CONTAINER, Made, Placement
from samplegen.tools import run

MEMBER_SEPARATOR = "!"


def placements_as(inner: Made, display_path: str) -> tuple[Placement, ...]:
    return tuple(placement.seen_as(display_path) for placement in inner.placements)


def compressed(out_dir: Path, inner: Made, argv: list[str], suffix: str, tool: str) -> Made:
    """Compress `inner` with a CLI that writes to stdout (`argv` + the input path)."""
    target = out_dir / "containers" / f"{Path(inner.path).name}.{suffix}"
    run([*argv, str(out_dir / inner.path)], stdout_path=target)
    display_path = target.relative_to(out_dir).as_posix()
    return Made(
        display_path, CONTAINER, f"{tool} of {inner.path}", placements_as(inner, display_path)
    )


def tar_gz(out_dir: Path, members: list[Made]) -> Made:
    target = out_dir / "containers" / "bundle.tar.gz"
    # Level 1: the samples test unpacking, not ratio; tarfile defaults to a slow 9.
    with tarfile.open(target, "w:gz", compresslevel=1) as archive:
        for member in members:
            archive.add(out_dir / member.path, arcname=Path(member.path).name)
    display_path = target.relative_to(out_dir).as_posix()
    placements = tuple(
        placement
        for member in members
        for placement in placements_as(
            member, f"{display_path}{MEMBER_SEPARATOR}{Path(member.path).name}"
        )
    )
    names = " and ".join(member.path for member in members)
    return Made(display_path, CONTAINER, f"tar.gz (tarfile) holding {names}", placements)


def zip_of_xz(out_dir: Path, inner: Made) -> Made:
    """A zip (deflate) whose one member is `inner` compressed with the xz CLI."""
    member_name = f"{Path(inner.path).name}.xz"
    xz_path = out_dir / "containers" / f".{member_name}"
    run(["xz", "-c", "-6", str(out_dir / inner.path)], stdout_path=xz_path)
    target = out_dir / "containers" / "bundle.zip"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(xz_path, arcname=member_name)
    xz_path.unlink()
    display_path = target.relative_to(out_dir).as_posix()
    member_path = f"{display_path}{MEMBER_SEPARATOR}{member_name}"
    return Made(
        display_path,
        CONTAINER,
        f"zip holding xz of {inner.path}",
        placements_as(inner, member_path),
    )


def tar_zst(out_dir: Path, name: str, members: list[Made]) -> Made:
    """A plain tar (tarfile) of `members`, compressed with the zstd CLI."""
    tar_path = out_dir / "containers" / f".{name}.tar"
    with tarfile.open(tar_path, "w") as archive:
        for member in members:
            archive.add(out_dir / member.path, arcname=Path(member.path).name)
    target = out_dir / "containers" / f"{name}.tar.zst"
    run(["zstd", "-q", "-c", "-3", str(tar_path)], stdout_path=target)
    tar_path.unlink()
    display_path = target.relative_to(out_dir).as_posix()
    placements = tuple(
        placement
        for member in members
        for placement in placements_as(
            member, f"{display_path}{MEMBER_SEPARATOR}{Path(member.path).name}"
        )
    )
    description = f"zstd over tar (tarfile) holding the {len(members)} planted encoding files"
    return Made(display_path, CONTAINER, description, placements)


def make_containers(out_dir: Path, made: dict[str, Made], encoding_paths: list[str]) -> list[Made]:
    """`made` maps artifact paths (relative to the out dir) to what was made there;
    `encoding_paths` are the issue #4 encodings' planted files (encodings.tar.zst)."""
    (out_dir / "containers").mkdir()
    core = made["dumps/python-pem.core"]
    return [
        compressed(out_dir, core, ["gzip", "-c", "-1"], "gz", "gzip"),
        compressed(out_dir, core, ["zstd", "-q", "-c", "-3"], "zst", "zstd"),
        tar_gz(out_dir, [made["planted/pem-pkcs8-ed25519.bin"], made["dumps/python-utf16.core"]]),
        zip_of_xz(out_dir, made["planted/pem-pkcs1-rsa.bin"]),
        compressed(
            out_dir, made["planted/pem-pkcs8-ec-p384.bin"], ["lz4", "-q", "-c"], "lz4", "lz4"
        ),
        compressed(
            out_dir, made["planted/der-pkcs1-rsa.bin"], ["bzip2", "-c", "-9"], "bz2", "bzip2"
        ),
        tar_zst(out_dir, "encodings", [made[path] for path in encoding_paths]),
    ]
