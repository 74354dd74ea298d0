"""HPROF reader: real jmap/jcmd heap dumps of a JVM holding keys, the corpus, spec-exact
4- and 8-byte-id dumps from tests/formats/hprof_writer.py, cut and hostile files."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.errors import FormatError
from scanner.formats import reader_for
from scanner.formats.base import Dump
from scanner.formats.hprof import MIN_ARRAY_BYTES, HprofReader
from tests.clirun import dumpguard, scan_json
from tests.formats.hprof_writer import HprofWriter, WrittenArray, sample_dump
from tests.keyfactory import SampleKey, make_keys
from tests.processes import read_ready_line, stop

REPO_ROOT = Path(__file__).resolve().parents[2]
HOLDER_SOURCE = REPO_ROOT / "samples" / "holders" / "HoldHprofKeys.java"
CORPUS_HPROF = REPO_ROOT.parent / "shared" / "corpus" / "hprof"
READER = HprofReader()
VERSIONS = (b"JAVA PROFILE 1.0.1", b"JAVA PROFILE 1.0.2", b"JAVA PROFILE 1.0.3")
JVM_TIMEOUT = 60


def read(path: Path) -> Dump:
    return READER.read(path, path.stat().st_size)


def write(tmp_path: Path, data: bytes, name: str = "heap.hprof") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def expected_regions(arrays: list[WrittenArray]) -> list[tuple[str, int, int, int]]:
    return [
        (a.name, a.array_id, a.data_offset, len(a.data))
        for a in arrays
        if len(a.data) >= MIN_ARRAY_BYTES
    ]


def seen_regions(dump: Dump) -> list[tuple[str | None, int | None, int, int]]:
    return [(r.name, r.address, r.file_offset, r.size) for r in dump.regions]


# --- spec-exact dumps -------------------------------------------------------------------


@pytest.mark.parametrize("id_size", [4, 8])
@pytest.mark.parametrize("version", VERSIONS)
def test_every_primitive_array_of_32_bytes_or_more_is_one_region(
    tmp_path: Path, id_size: int, version: bytes
) -> None:
    writer = sample_dump(id_size, version)
    path = write(tmp_path, bytes(writer.out))

    dump = read(path)

    assert dump.format == "hprof"
    assert dump.defects == ()
    assert seen_regions(dump) == expected_regions(writer.arrays)
    # The short arrays (31-byte byte[], 30-byte short[], empty byte[]) are left out.
    assert len(dump.regions) == len(writer.arrays) - 3
    data = path.read_bytes()
    for region, array in zip(dump.regions, writer.arrays[1:], strict=False):
        if len(array.data) >= MIN_ARRAY_BYTES:
            assert data[region.file_offset : region.file_end] == array.data
        assert region.module is None
        assert region.permissions is None


def test_char_array_region_holds_utf16be_text(tmp_path: Path) -> None:
    writer = HprofWriter(4)
    writer.begin_segment(0x0C)  # a JDK 6 single HEAP DUMP record
    text = "-----BEGIN PRIVATE KEY-----"
    writer.prim_array(0x1234, 5, text.encode("utf-16-be"))
    writer.end_segment()
    path = write(tmp_path, bytes(writer.out))

    (region,) = read(path).regions

    assert region.name == "char[] @0x1234"
    assert region.address == 0x1234
    assert path.read_bytes()[region.file_offset : region.file_end].decode("utf-16-be") == text


def test_probe_and_registry_pick_hprof_only_for_hprof_headers() -> None:
    for id_size in (4, 8):
        head = bytes(sample_dump(id_size).out[:64])
        assert READER.probe(head)
        assert reader_for(head).name == "hprof"
    assert not READER.probe(b"JAVA PROFILE 1.0.9\0" + bytes(12))
    assert not READER.probe(b"JAVA PROFILE 1.0.2")  # no NUL, no identifier size
    assert reader_for(b"JAVA PROFILE 1.0.2\0\0").name == "raw"
    assert reader_for(b"\x7fELF" + bytes(60)).name != "hprof"


def test_a_file_that_is_not_hprof_is_a_format_error_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path, b"MDMP" + bytes(100), "not-a-heap.bin")
    with pytest.raises(FormatError, match=r"not-a-heap\.bin: not an HPROF heap dump"):
        read(path)


@pytest.mark.parametrize("id_size", [0, 2, 16, 0xFFFFFFFF])
def test_unsupported_identifier_size_is_a_format_error(tmp_path: Path, id_size: int) -> None:
    data = b"JAVA PROFILE 1.0.2\0" + id_size.to_bytes(4, "big") + bytes(8)
    with pytest.raises(FormatError, match=f"identifier size {id_size}"):
        read(write(tmp_path, data))


def test_a_cut_file_keeps_the_arrays_before_the_cut_and_has_a_defect(tmp_path: Path) -> None:
    writer = sample_dump(8)
    int_array = next(a for a in writer.arrays if a.element_type == 10)
    cut = int_array.data_offset + 40  # 40 of the int[]'s 128 bytes are left
    path = write(tmp_path, bytes(writer.out[:cut]))

    dump = read(path)

    regions = seen_regions(dump)
    assert regions[-1] == (int_array.name, int_array.array_id, int_array.data_offset, 40)
    assert regions[:-1] == expected_regions(writer.arrays)[:2]
    (defect,) = dump.defects
    assert "past the end of file" in defect
    assert f"0x{cut:x}" in defect


def test_damage_in_one_segment_skips_only_that_segment(tmp_path: Path) -> None:
    writer = HprofWriter(8)
    writer.begin_segment()
    writer.prim_array(0x10, 8, bytes(40))
    writer.sub(0x42, bytes(20))  # no such sub-record tag
    writer.prim_array(0x20, 8, bytes(40))
    writer.end_segment()
    writer.begin_segment()
    writer.prim_array(0x30, 8, bytes(40))
    writer.end_segment()
    writer.record(0x2C, b"")  # HEAP DUMP END
    path = write(tmp_path, bytes(writer.out))

    dump = read(path)

    assert [r.address for r in dump.regions] == [0x10, 0x30]
    (defect,) = dump.defects
    assert "unknown sub-record tag 0x42" in defect
    assert "rest of the segment" in defect


def test_a_sub_record_longer_than_its_segment_is_damage_not_a_read_past_it(
    tmp_path: Path,
) -> None:
    writer = HprofWriter(4)
    writer.begin_segment()
    writer.prim_array(0x10, 8, bytes(64))
    writer.end_segment()
    writer.utf8(1, "x" * 200)  # bytes after the segment the array must not claim
    data = bytearray(writer.out)
    segment_length_at = len(b"JAVA PROFILE 1.0.2\0") + 12 + 5
    data[segment_length_at : segment_length_at + 4] = (30).to_bytes(4, "big")
    path = write(tmp_path, bytes(data))

    dump = read(path)

    assert dump.regions == ()
    assert any("runs past the segment end" in defect for defect in dump.defects)


def test_many_cut_records_give_a_bounded_defect_list(tmp_path: Path) -> None:
    writer = HprofWriter(4)
    for _ in range(40):
        writer.begin_segment()
        writer.sub(0x42, b"")  # damage in each of 40 segments
        writer.end_segment()
    writer.record(0x2C, b"")
    path = write(tmp_path, bytes(writer.out))

    defects = read(path).defects

    assert len(defects) == 17
    assert defects[-1] == "... and 24 more records cut the same way"


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(min_value=0, max_value=1600), id_size=st.sampled_from([4, 8]))
def test_any_truncation_reads_a_prefix_or_raises_format_error(
    tmp_path: Path, cut: int, id_size: int
) -> None:
    writer = sample_dump(id_size)
    data = bytes(writer.out[:cut])
    path = write(tmp_path, data)
    try:
        dump = read(path)
    except FormatError:
        assert cut < 31  # only a cut header is unreadable
        return
    full = expected_regions(writer.arrays)
    regions = seen_regions(dump)
    whole = [r for r in regions if r in full]
    assert whole == full[: len(whole)]
    assert len(regions) - len(whole) <= 1  # at most the one array the cut went through
    assert all(r.file_end <= len(data) for r in dump.regions)
    if cut < len(writer.out):
        assert dump.defects


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=3000), id_size=st.sampled_from([4, 8]))
def test_random_records_never_raise_anything_but_format_error(
    tmp_path: Path, body: bytes, id_size: int
) -> None:
    data = b"JAVA PROFILE 1.0.2\0" + id_size.to_bytes(4, "big") + bytes(8) + body
    path = write(tmp_path, data)
    dump = read(path)
    assert all(r.file_offset >= 0 and r.file_end <= len(data) for r in dump.regions)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(segment=st.binary(max_size=2000), id_size=st.sampled_from([4, 8]))
def test_random_heap_dump_segments_never_raise(
    tmp_path: Path, segment: bytes, id_size: int
) -> None:
    writer = HprofWriter(id_size)
    writer.record(0x1C, segment)
    writer.record(0x1C, segment[::-1])
    path = write(tmp_path, bytes(writer.out))
    dump = read(path)
    assert all(r.size >= MIN_ARRAY_BYTES and r.file_end <= len(writer.out) for r in dump.regions)


# --- the third-party corpus ----------------------------------------------------------


def corpus_files() -> list[str]:
    if not CORPUS_HPROF.is_dir():
        return ["corpus-absent"]
    return sorted(path.name for path in CORPUS_HPROF.iterdir())


@pytest.mark.parametrize("name", corpus_files())
def test_corpus_heap_dumps_are_read_whole(name: str) -> None:
    if name == "corpus-absent":
        pytest.skip(f"third-party corpus not present at {CORPUS_HPROF.parent}")
    path = CORPUS_HPROF / name

    dump = read(path)

    assert reader_for(path.read_bytes()[:4096]).name == "hprof"
    assert dump.defects == ()
    assert len(dump.regions) > 100
    assert any(region.name.startswith("char[] @0x") for region in dump.regions)  # type: ignore[union-attr]


def test_corpus_heap_dumps_scan_clean_through_the_cli() -> None:
    if not CORPUS_HPROF.is_dir():
        pytest.skip(f"third-party corpus not present at {CORPUS_HPROF.parent}")

    run = dumpguard("scan", CORPUS_HPROF, "--format", "json")

    assert run.code == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["findings"] == []
    assert {i["format"] for i in report["inputs"]} == {"hprof"}
    assert {i["status"] for i in report["inputs"]} == {"ok"}


# --- real heap dumps of a JVM holding keys -------------------------------------------


@dataclass(frozen=True)
class JavaHeap:
    """jmap and jcmd dumps of one JVM and the keys it holds (see HoldHprofKeys.java)."""

    jmap_dump: Path
    jcmd_gzip_dump: Path
    pem_in_string: SampleKey
    der_in_bytes: SampleKey
    pem_in_chars: SampleKey


def run_tool(*args: str) -> None:
    result = subprocess.run(args, capture_output=True, timeout=JVM_TIMEOUT, check=False)
    if result.returncode != 0:
        pytest.fail(f"{args[0]} failed: {result.stderr.decode(errors='replace')[-300:]}")


@pytest.fixture(scope="module")
def java_heap(tmp_path_factory: pytest.TempPathFactory) -> JavaHeap:
    if not all(shutil.which(tool) for tool in ("java", "javac", "jmap", "jcmd")):
        pytest.skip("a JDK with javac, jmap and jcmd is needed")
    work = tmp_path_factory.mktemp("hprof")
    rsa, p256, ed25519 = (k for k in make_keys() if k.name in ("rsa2048", "p256", "ed25519"))
    (work / "string.pem").write_bytes(rsa.pem())
    (work / "bytes.der").write_bytes(p256.der())
    (work / "chars.pem").write_bytes(ed25519.pem())
    run_tool("javac", "-d", str(work), str(HOLDER_SOURCE))
    holder = [
        "java", "-Xmx64m", "-XX:+UseSerialGC", "-cp", str(work), "HoldHprofKeys",
        *(str(work / name) for name in ("string.pem", "bytes.der", "chars.pem")),
    ]  # fmt: skip
    process = subprocess.Popen(holder, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        line = read_ready_line(process, JVM_TIMEOUT)
        assert line.startswith(b"READY"), line[:40]
        jmap_dump, jcmd_dump = work / "jmap.hprof", work / "jcmd.hprof.gz"
        run_tool("jmap", f"-dump:live,format=b,file={jmap_dump}", str(process.pid))
        run_tool("jcmd", str(process.pid), "GC.heap_dump", "-gz=1", str(jcmd_dump))
    finally:
        stop(process)
    for name in ("string.pem", "bytes.der", "chars.pem"):
        (work / name).unlink()
    return JavaHeap(jmap_dump, jcmd_dump, rsa, p256, ed25519)


def by_fingerprint(report: dict[str, Any], key: SampleKey) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["fingerprint"] == key.fingerprint]


@pytest.mark.slow
def test_jmap_dump_regions_hold_the_arrays_the_jvm_held(java_heap: JavaHeap) -> None:
    dump = read(java_heap.jmap_dump)
    data = java_heap.jmap_dump.read_bytes()
    der = java_heap.der_in_bytes.der()
    pem_chars = java_heap.pem_in_chars.pem().decode().encode("utf-16-be")

    arrays = {data[r.file_offset : r.file_end]: r for r in dump.regions}

    assert dump.defects == ()
    assert arrays[der].name == f"byte[] @0x{arrays[der].address:x}"
    assert arrays[pem_chars].name.startswith("char[] @0x")  # type: ignore[union-attr]
    assert java_heap.pem_in_string.pem() in arrays


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["yara-x", "yara-python"])
def test_keys_in_a_jmap_dump_are_found_with_their_fingerprints(
    java_heap: JavaHeap, engine: str
) -> None:
    code, report = scan_json(java_heap.jmap_dump, "--engine", engine)

    assert code == 1
    (result,) = report["inputs"]
    assert (result["format"], result["status"]) == ("hprof", "ok")
    (in_string,) = by_fingerprint(report, java_heap.pem_in_string)
    assert (in_string["detector"], in_string["encoding"], in_string["kind"]) == (
        "pem",
        "ascii",
        "private-key",
    )
    assert in_string["region"].startswith("byte[] @0x")
    (in_bytes,) = by_fingerprint(report, java_heap.der_in_bytes)
    assert (in_bytes["detector"], in_bytes["encoding"]) == ("der-pkcs8", "der")
    # The byte[] holds exactly the DER: the finding starts at the array's first element.
    assert in_bytes["address"] == int(in_bytes["region"].split("@")[1], 16)
    assert in_bytes["severity"] == "high"
    assert in_bytes["module"] is None


@pytest.mark.slow
def test_a_pem_in_a_char_array_is_found_as_utf16_text(java_heap: JavaHeap) -> None:
    code, report = scan_json(java_heap.jmap_dump)

    assert code == 1
    (in_chars,) = by_fingerprint(report, java_heap.pem_in_chars)
    assert in_chars["region"].startswith("char[] @0x")
    assert in_chars["detector"] == "pem"
    # The array is the PEM file with its final newline: "...-----\n" in UTF-16BE ends
    # 00 2D 00 0A, which pem.py reads as UTF-16LE one byte on (see its docstring).
    assert in_chars["encoding"] in ("utf-16be", "utf-16le")


@pytest.mark.slow
def test_a_gzip_heap_dump_from_jcmd_is_opened_and_scanned(java_heap: JavaHeap) -> None:
    code, report = scan_json(java_heap.jcmd_gzip_dump)

    assert code == 1
    (result,) = report["inputs"]
    assert (result["format"], result["status"], result["containers"]) == (
        "hprof",
        "ok",
        ["gzip"],
    )
    for key in (java_heap.pem_in_string, java_heap.der_in_bytes, java_heap.pem_in_chars):
        (finding,) = by_fingerprint(report, key)
        assert finding["path"] == str(java_heap.jcmd_gzip_dump)


@pytest.mark.slow
def test_a_cut_jmap_dump_is_scanned_up_to_the_cut_and_fails_closed(
    java_heap: JavaHeap, tmp_path: Path
) -> None:
    data = java_heap.jmap_dump.read_bytes()
    der_at = data.index(java_heap.der_in_bytes.der())
    cut = write(tmp_path, data[: der_at + len(java_heap.der_in_bytes.der()) + 5], "cut.hprof")
    clean = write(tmp_path, b"nothing here\n", "clean.txt")

    code, report = scan_json(cut, clean)

    inputs = {Path(i["path"]).name: i for i in report["inputs"]}
    assert inputs["cut.hprof"]["status"] == "error"
    assert "past the end of file" in inputs["cut.hprof"]["error"]
    assert "\n" not in inputs["cut.hprof"]["error"]
    assert inputs["clean.txt"]["status"] == "ok"
    assert by_fingerprint(report, java_heap.der_in_bytes)  # read before the cut
    assert code == 1
