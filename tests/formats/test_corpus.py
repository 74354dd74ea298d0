"""Every third-party corpus file through the registry, cross-checked with other readers.

The corpus (../shared/corpus, see its MANIFEST.md) is not part of the repo;
these tests skip when it is absent.  The .bz2 files are decompressed once per
session with the bz2 module.
"""

from __future__ import annotations

import bz2
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from elftools.elf.segments import NoteSegment

from scanner.errors import FormatError
from scanner.formats import reader_for

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
FORMAT_BY_FOLDER = {
    "elfcore": "elf-core",
    "minidump": "minidump",
    "vmcore": "memory-image",
    "lime": "memory-image",
    "hprof": "hprof",
    "kernel_crashdump": "memory-image",
}
MALFORMED = {
    "minidump/rust-minidump_rust-minidump__invalid-range.dmp",
    "minidump/rust-minidump_rust-minidump__invalid-record-count.dmp",
}
# pyelftools picks the prpsinfo uid width from e_machine and takes x32 (ELF32,
# EM_X86_64) for 32-bit uids; the kernel writes x32 cores with 16-bit compat uids
# (a 124-byte note), so pyelftools decodes the name 4 bytes late ("trace.x32.e").
# The right name is the executable's (backtrace.x32.exe, its NT_FILE path) cut
# to 15 characters (TASK_COMM_LEN - 1); 3842 is also the pr_pid of the main
# thread's NT_PRSTATUS.
PYELFTOOLS_MISREADS = {
    "elfcore/sourceware-org_elfutils__backtrace.x32.core.bz2": ("backtrace.x32.e", 3842),
}
NETBSD_CORES = {
    "elfcore/llvm-mirror_lldb__1lwp_SIGSEGV.aarch64.core": "1lwp_SIGSEGV",
    "elfcore/llvm-mirror_lldb__2lwp_process_SIGSEGV.amd64.core": "2lwp_process_SIG",
}
# readelf -lW: Type Offset VirtAddr PhysAddr FileSiz MemSiz Flg Align, Flg as "RWE".
READELF_LOAD = re.compile(
    r"^\s+LOAD\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+ (.{3}) ",
    re.MULTILINE,
)


def corpus_files(folder: str | None = None) -> list[str]:
    if not CORPUS.is_dir():
        return ["corpus-absent"]
    return sorted(
        path.relative_to(CORPUS).as_posix()
        for path in CORPUS.rglob("*")
        if path.is_file()
        and path.name != "MANIFEST.md"
        and (folder is None or path.parent.name == folder)
    )


@pytest.fixture(scope="session")
def decoded_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corpus")


def decoded(corpus: Path, decoded_dir: Path, relative: str) -> Path:
    """The corpus file as a reader sees it: .bz2 files decompressed (once per session)."""
    path = corpus / relative
    if path.suffix != ".bz2":
        return path
    target = decoded_dir / path.stem
    if not target.exists():
        with bz2.open(path) as compressed, target.open("wb") as out:
            shutil.copyfileobj(compressed, out)
    return target


@pytest.mark.parametrize("relative", corpus_files())
def test_corpus_file_is_read_by_the_reader_for_its_format(
    corpus: Path, decoded_dir: Path, relative: str
) -> None:
    path = decoded(corpus, decoded_dir, relative)
    size = path.stat().st_size
    reader = reader_for(path.read_bytes()[:4096])
    assert reader.name == FORMAT_BY_FOLDER[relative.split("/", maxsplit=1)[0]]

    if relative in MALFORMED:
        with pytest.raises(FormatError) as raised:
            reader.read(path, size)
        assert str(raised.value).startswith(f"{path}: ")
        return
    dump = reader.read(path, size)

    assert dump.format == reader.name
    assert all(0 <= region.file_offset < region.file_end <= size for region in dump.regions)
    if relative.startswith(("vmcore/", "kernel_crashdump/")):  # both are cut short on purpose
        assert dump.defects
    else:
        assert dump.defects == ()


def test_cut_kdump_vmcore_keeps_the_bytes_it_has_and_reports_the_rest(
    corpus: Path,
) -> None:
    """testfile62 is cut after its notes: its 4 PT_LOADs point past the end of the file."""
    path = corpus / "vmcore/sourceware-org_elfutils__testfile62"
    size = path.stat().st_size
    dump = reader_for(path.read_bytes()[:4096]).read(path, size)

    (region,) = dump.regions
    assert region.file_end == size
    assert len(dump.defects) == 4
    assert dump.defects[0].endswith(f"clipped to 0x{region.size:x} bytes")
    assert all(defect.endswith("dropped") for defect in dump.defects[1:])


@pytest.mark.parametrize("relative", corpus_files("elfcore"))
def test_elf_core_regions_match_binutils_readelf(
    corpus: Path, decoded_dir: Path, relative: str
) -> None:
    if shutil.which("readelf") is None:
        pytest.skip("binutils readelf not installed")
    path = decoded(corpus, decoded_dir, relative)
    listing = subprocess.run(
        ["readelf", "-lW", str(path)], capture_output=True, text=True, check=True
    ).stdout
    expected = [
        (int(offset, 16), int(vaddr, 16), int(filesz, 16), readelf_permissions(flags))
        for offset, vaddr, filesz, flags in READELF_LOAD.findall(listing)
        if int(filesz, 16) > 0
    ]

    dump = reader_for(path.read_bytes()[:4096]).read(path, path.stat().st_size)

    assert [(r.file_offset, r.address, r.size, r.permissions) for r in dump.regions] == expected


def readelf_permissions(flags: str) -> str:
    return "".join(
        ours if shown == theirs else "-"
        for shown, theirs, ours in zip(flags, "RWE", "rwx", strict=True)
    )


@pytest.mark.parametrize("relative", sorted(set(corpus_files("elfcore")) - set(NETBSD_CORES)))
def test_elf_core_names_and_process_match_pyelftools_note_parsers(
    corpus: Path, decoded_dir: Path, relative: str
) -> None:
    """pyelftools' construct-based NT_FILE / NT_PRPSINFO parsers (uid size by e_machine)
    against our bounded note walk (uid size by note size)."""
    path = decoded(corpus, decoded_dir, relative)
    mapped, process = linux_notes_by_pyelftools(path)
    process = PYELFTOOLS_MISREADS.get(relative, process)

    dump = reader_for(path.read_bytes()[:4096]).read(path, path.stat().st_size)

    assert (dump.process_name, dump.pid) == process
    for region in dump.regions:
        expected = next(
            (name for start, end, name in mapped if start <= (region.address or -1) < end), None
        )
        assert (region.name, region.module) == (expected, expected)


def linux_notes_by_pyelftools(
    path: Path,
) -> tuple[list[tuple[int, int, str]], tuple[str | None, int | None]]:
    mapped: list[tuple[int, int, str]] = []
    process: tuple[str | None, int | None] = (None, None)
    with path.open("rb") as stream:
        elf = ELFFile(stream)
        for segment in elf.iter_segments("PT_NOTE"):
            assert isinstance(segment, NoteSegment)
            for note in segment.iter_notes():
                if note.n_name == "CORE" and note.n_type == "NT_FILE":
                    mapped = [
                        (entry.vm_start, entry.vm_end, name.decode())
                        for entry, name in zip(
                            note.n_desc.Elf_Nt_File_Entry, note.n_desc.filename, strict=True
                        )
                    ]
                if note.n_name == "CORE" and note.n_type == "NT_PRPSINFO":
                    fname = note.n_desc.pr_fname.split(b"\0")[0].decode()
                    process = (fname or None, note.n_desc.pr_pid)
    return mapped, process


@pytest.mark.parametrize(("relative", "name_prefix"), sorted(NETBSD_CORES.items()))
def test_netbsd_core_names_its_process(corpus: Path, relative: str, name_prefix: str) -> None:
    path = corpus / relative
    dump = reader_for(path.read_bytes()[:4096]).read(path, path.stat().st_size)

    assert dump.format == "elf-core"
    assert dump.process_name is not None
    assert dump.process_name.startswith(name_prefix)
    assert dump.pid is not None
    assert dump.pid > 0
    assert dump.regions
