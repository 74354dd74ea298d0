"""`make bench`: dumpguard's scan speed and memory against `cat` and the yara CLI.

One run: build (or reuse) a 1 GiB memory image with planted keys and raw numbers
(samples/bench_image.py), warm the page cache, then time, best of 3 (the machine is shared and
noisy), interleaved:

    cat IMAGE > /dev/null                                   the disk/page-cache ceiling
    yara -w -s RULES... IMAGE                               the same rules, one C process
    dumpguard scan IMAGE --format json --engine yara-x      end to end: start-up, rule
    dumpguard scan IMAGE --format json --engine yara-python compilation, scan, proof, report

and for the known-key component searches (issue 3; `--skip-known` leaves them out):

    dumpguard scan IMAGE --format json                      the structured scan alone
    dumpguard scan IMAGE --format json --known-keys DIR     DIR: known/rsa-1, rsa-10, rsa-100
                                                            and p256-10 beside the image

Times are wall clock, end to end.  The yara CLI scans one file on one thread; dumpguard runs
with its defaults (--jobs 2, yara-x).  Peak RSS is the command's largest process, see
`RssMeter`; for the issue-3 runs, whose searches run in forked workers, also the peak of the
summed PSS of the command's whole process tree (`TreePssPoller`), and CPU time over wall time.

Prints MB/s (10**6 bytes per second) of each, the ratios dumpguard/yara-CLI (target >= 3.0)
and dumpguard/cat, whether every planted key was found (offset and fingerprint; encrypted keys
by offset and kind), unexpected findings at high or above, peak RSS (target < 512 MiB) and the
faster engine.  For the issue-3 runs: MB/s and ratio to cat, whether every planted raw number
whose public key is in the set was found (fingerprint, and offset of the number's first byte;
a finding at the first byte of the ASN.1 header before it counts too and is listed) and every
structured key too, unexpected findings, memory, the search cost beyond the structured scan,
and the targets (>= 300 MB/s with 10 known RSA keys, >= 150 MB/s with 100).  Writes the
numbers to samples/out/bench.json.  Exit 0 when every planted key was found in every dumpguard
run, 1 when one was missed or a scan failed, 2 when a tool is missing.  The speed and memory
targets are reported, not asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import bench_image
from bench_image import BuildParams, Manifest, PlantedKey, PlantedNumber

REPO_ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = REPO_ROOT / "samples" / "out"
IMAGE_DIR = OUT_DIR / "bench"
RESULTS_PATH = OUT_DIR / "bench.json"
RULES_DIR = REPO_ROOT / "rules"
RULE_SUFFIXES = (".yar", ".yara")  # as scanner.detectors.engines.base.rule_files_in
ENGINES = ("yara-x", "yara-python")
RATIO_TARGET = 3.0
RSS_TARGET_MIB = 512
# issue 3: MB/s with this many known RSA-2048 keys (use both cores; the cost per candidate
# must grow far slower than the number of keys)
KNOWN_TARGETS_MB_S = {"rsa-10": 300.0, "rsa-100": 150.0}
STRUCTURED_LABEL = "structured only"
KNOWN_LABEL = "known {}"  # one per bench_image.KNOWN_SETS name
TREE_SAMPLE_SECONDS = 0.1
QUICK_SIZE = 256 * 1024 * 1024
GATING_SEVERITIES = frozenset({"high", "critical"})
EXIT_OK, EXIT_MISSED, EXIT_SETUP = 0, 1, 2
GNU_TIME = "/usr/bin/time"


@dataclass(frozen=True)
class Run:
    """One run: wall time, the largest process's peak RSS, the exit status, the CPU time of
    the command and all its descendants, and (when sampled) the peak summed PSS of its tree."""

    seconds: float
    peak_rss_kib: int
    returncode: int
    cpu_seconds: float = 0.0
    tree_pss_kib: int | None = None


@dataclass
class Tool:
    """One measured command and what its runs gave.

    known_set: for the issue-3 runs, the known-keys set it scans with ("" for the structured
    scan alone); None for the issue-2 tools.
    """

    label: str
    argv: list[str]
    keeps_output: bool = True
    known_set: str | None = None
    runs: list[Run] = field(default_factory=list)
    notes: dict[str, object] = field(default_factory=dict)

    @property
    def best_seconds(self) -> float:
        return min(run.seconds for run in self.runs)

    @property
    def best_run(self) -> Run:
        return min(self.runs, key=lambda run: run.seconds)

    @property
    def peak_rss_mib(self) -> float:
        return max(run.peak_rss_kib for run in self.runs) / 1024

    @property
    def peak_tree_pss_mib(self) -> float | None:
        sampled = [run.tree_pss_kib for run in self.runs if run.tree_pss_kib is not None]
        return max(sampled) / 1024 if sampled else None

    @property
    def cores_used(self) -> float:
        """CPU seconds over wall seconds in the fastest run: 2.0 is both cores busy throughout."""
        best = self.best_run
        return best.cpu_seconds / best.seconds if best.seconds > 0 else 0.0

    def mb_per_s(self, size: int) -> float:
        return size / 1e6 / self.best_seconds


# ---------------------------------------------------------------- running one command


class RssMeter:
    """Peak RSS of one child process alone, however it was started.

    GNU time (`/usr/bin/time -v`) forks the command from its own small process and reports
    its ru_maxrss.  Without it, /proc/PID/status VmHWM is polled every 10 ms.  Not used:
    ru_maxrss from wait4/RUSAGE_CHILDREN here, which counts the benchmark's own memory (the
    child is forked from this Python process and Linux keeps that high-water mark over exec).
    """

    def __init__(self) -> None:
        self.gnu_time = GNU_TIME if _is_gnu_time(GNU_TIME) else None

    @property
    def method(self) -> str:
        if self.gnu_time:
            return f"{self.gnu_time} -v 'Maximum resident set size' of the command"
        return "/proc/PID/status VmHWM of the command, polled every 10 ms"

    def wrap(self, argv: Sequence[str], report_path: Path) -> list[str]:
        if self.gnu_time is None:
            return list(argv)
        return [self.gnu_time, "-v", "-o", str(report_path), *argv]

    def peak_kib(self, report_path: Path, poller: HwmPoller | None) -> int:
        if poller is not None:
            return poller.stop()
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report_path.read_text())
        return int(match.group(1)) if match else 0


def _is_gnu_time(path: str) -> bool:
    if not os.access(path, os.X_OK):
        return False
    done = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    return "GNU" in done.stdout + done.stderr


class HwmPoller(threading.Thread):
    """Largest VmHWM seen for `pid` once it runs `program` (before exec it shares our memory)."""

    def __init__(self, pid: int, program: str) -> None:
        super().__init__(daemon=True)
        self.status_path = Path(f"/proc/{pid}/status")
        self.comm = Path(program).name[:15]  # the kernel's comm: at most 15 characters
        self.peak_kib = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.01):
            try:
                status = self.status_path.read_text()
            except OSError:
                return
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            if fields.get("Name", "").strip() == self.comm and "VmHWM" in fields:
                self.peak_kib = max(self.peak_kib, int(fields["VmHWM"].split()[0]))

    def stop(self) -> int:
        self.done.set()
        self.join()
        return self.peak_kib


class TreePssPoller(threading.Thread):
    """Largest sum of PSS over a process and all its descendants, sampled every 100 ms.

    With known keys dumpguard scans in forked worker processes; the maximum resident set size
    GNU time reports is the largest single process, not what the scan holds in all.  PSS
    (proportional set size, /proc/PID/smaps_rollup) divides each page among the processes
    that map it, so pages the workers share copy-on-write with their parent count once.
    Sampling every 100 ms costs a few file reads: well under 1 % of a core.
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root_pid = pid
        self.peak_kib = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(TREE_SAMPLE_SECONDS):
            self.peak_kib = max(self.peak_kib, sum(map(_pss_kib, _tree(self.root_pid))))

    def stop(self) -> int:
        self.done.set()
        self.join()
        return self.peak_kib


def _tree(root_pid: int) -> list[int]:
    """`root_pid` and every live descendant (from /proc/PID/task/TID/children)."""
    found, pending = [], [root_pid]
    while pending:
        pid = pending.pop()
        found.append(pid)
        for children in Path(f"/proc/{pid}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                pending.extend(int(child) for child in children.read_text().split())
    return found


def _pss_kib(pid: int) -> int:
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:  # exited between the listing and the read
        return 0
    match = re.search(r"^Pss:\s+(\d+) kB", rollup, re.MULTILINE)
    return int(match.group(1)) if match else 0


def run_measured(
    argv: Sequence[str],
    stdout_path: Path | None,
    scratch: Path,
    timeout: float,
    meter: RssMeter,
    *,
    sample_tree: bool = False,
) -> Run:
    """Run `argv` (stdout to `stdout_path`, or /dev/null); wall time, the child's peak RSS and
    the CPU time of the child and its descendants (wait4 counts every descendant that was
    waited for, through the GNU time wrapper too).

    stderr goes to a file, never a pipe: a pipe nobody reads while we wait could fill and stall
    the child.  The child gets its own session so a timeout kills it with its wrapper.
    """
    rss_report, stderr_path = scratch / "rss.txt", scratch / "stderr.txt"
    with contextlib.ExitStack() as files:
        stdout = files.enter_context(stdout_path.open("wb")) if stdout_path else subprocess.DEVNULL
        stderr = files.enter_context(stderr_path.open("wb"))
        started = time.perf_counter()
        process = subprocess.Popen(
            meter.wrap(argv, rss_report), stdout=stdout, stderr=stderr, start_new_session=True
        )
        poller = None if meter.gnu_time else HwmPoller(process.pid, argv[0])
        tree = TreePssPoller(process.pid) if sample_tree else None
        for thread in (poller, tree):
            if thread:
                thread.start()
        killer = threading.Timer(timeout, os.killpg, (process.pid, signal.SIGKILL))
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
        finally:
            killer.cancel()
        elapsed = time.perf_counter() - started
    tree_pss = tree.stop() if tree else None
    cpu = usage.ru_utime + usage.ru_stime
    return Run(elapsed, meter.peak_kib(rss_report, poller), process.returncode, cpu, tree_pss)


def stderr_tail(scratch: Path, lines: int = 3) -> str:
    """The last lines of the run's stderr: where an error message or a traceback ends."""
    text = (scratch / "stderr.txt").read_text(errors="replace").strip()
    return " | ".join(text.splitlines()[-lines:])


def tool_version(argv: Sequence[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except OSError:
        return "unknown"
    return (done.stdout.strip() or done.stderr.strip() or "unknown").splitlines()[-1]


# ---------------------------------------------------------------- checking outputs


@dataclass
class KeyCheck:
    """Planted keys against one tool's reports (a key missed in any run is missed).

    raw: the planted raw numbers this tool's known-keys set must find (none without one).
    """

    raw: tuple[PlantedNumber, ...] = ()
    missed: dict[str, str] = field(default_factory=dict)  # name -> why
    raw_missed: dict[str, str] = field(default_factory=dict)  # name -> why
    raw_at_header: set[str] = field(default_factory=set)  # found at the ASN.1 header's offset
    unexpected: dict[int, dict[str, object]] = field(default_factory=dict)  # offset -> finding
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missed or self.raw_missed or self.failures)


def _matches(key: PlantedKey, finding: dict[str, object]) -> bool:
    if finding.get("offset") != key.offset:
        return False
    if key.fingerprint is None:
        return finding.get("kind") == key.kind
    return finding.get("fingerprint") == key.fingerprint


def _why_missed(key: PlantedKey | PlantedNumber, findings: Sequence[dict[str, object]]) -> str:
    for finding in findings:
        if key.fingerprint is not None and finding.get("fingerprint") == key.fingerprint:
            return f"not at offset {key.offset}; same fingerprint at offset {finding.get('offset')}"
        if finding.get("offset") == key.offset:
            reported = f"{finding.get('kind')} {finding.get('fingerprint')}"
            return f"offset {key.offset} reported as {reported}"
    return f"no finding at offset {key.offset}"


def _number_starts(number: PlantedNumber) -> tuple[int, int]:
    """Where a finding of a raw number may start: its first byte, or the first byte of the
    ASN.1 header before it (the structure a search anchored on; the same when none)."""
    return number.offset, number.offset - number.header_length


def _matches_number(number: PlantedNumber, finding: dict[str, object]) -> bool:
    """A raw number is found when a finding with its key's print starts at its first byte
    or at its header's."""
    return finding.get("fingerprint") == number.fingerprint and (
        finding.get("offset") in _number_starts(number)
    )


def check_report(report_path: Path, manifest: Manifest, result: KeyCheck) -> None:
    """Compare one JSON report with planted.json; accumulate into `result`."""
    try:
        report = json.loads(report_path.read_text())
        findings: list[dict[str, object]] = list(report["findings"])
        inputs: list[dict[str, object]] = list(report["inputs"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        result.failures.append(f"report unreadable: {type(error).__name__}: {error}")
        for key in manifest.keys:
            result.missed.setdefault(key.name, "no readable report")
        for number in result.raw:
            result.raw_missed.setdefault(number.name, "no readable report")
        return
    for item in inputs:
        if item.get("status") != "ok":
            result.failures.append(f"input not scanned: {item.get('error')}")
    for key in manifest.keys:
        if not any(_matches(key, finding) for finding in findings):
            result.missed.setdefault(key.name, _why_missed(key, findings))
    for number in result.raw:
        matching = [finding for finding in findings if _matches_number(number, finding)]
        if not matching:
            result.raw_missed.setdefault(number.name, _why_missed(number, findings))
        elif number.header_length and all(f.get("offset") != number.offset for f in matching):
            result.raw_at_header.add(number.name)
    planted_offsets = {key.offset for key in manifest.keys}
    planted_offsets.update(start for number in result.raw for start in _number_starts(number))
    for finding in findings:
        offset = finding.get("offset")
        if finding.get("severity") in GATING_SEVERITIES and offset not in planted_offsets:
            result.unexpected[int(str(offset))] = _describe_unexpected(finding, manifest)


def _describe_unexpected(finding: dict[str, object], manifest: Manifest) -> dict[str, object]:
    planted: list[PlantedKey | PlantedNumber] = [*manifest.keys, *manifest.raw]
    twin = next((k.name for k in planted if k.fingerprint == finding.get("fingerprint")), None)
    fields = ("offset", "length", "severity", "kind", "detector", "encoding", "fingerprint")
    described = {name: finding.get(name) for name in fields}
    described["same_key_as_planted"] = twin
    return described


_YARA_MATCH = re.compile(rb"^0x([0-9a-f]+):\$")


def yara_match_offsets(output_path: Path) -> set[int]:
    """Offsets of the string matches `yara -s` printed (lines "0x1a2b:$name: ...")."""
    offsets: set[int] = set()
    with output_path.open("rb") as output:
        for line in output:
            if match := _YARA_MATCH.match(line):
                offsets.add(int(match.group(1), 16))
    return offsets


# ---------------------------------------------------------------- the benchmark


@dataclass(frozen=True)
class Setup:
    image: Path
    size: int
    manifest: Manifest
    reused: bool
    repetitions: int
    timeout: float
    scratch: Path
    meter: RssMeter
    known_sets: tuple[str, ...]  # the issue-3 runs' known-keys sets; () with --skip-known


def make_tools(setup: Setup, yara: str, dumpguard: Path, rule_files: Sequence[Path]) -> list[Tool]:
    image = str(setup.image)
    tools = [
        Tool("cat", ["cat", image], keeps_output=False),  # cat IMAGE > /dev/null
        Tool("yara CLI", [yara, "-w", "-s", *map(str, rule_files), image]),
    ]
    for engine in ENGINES:
        argv = [str(dumpguard), "scan", image, "--format", "json", "--engine", engine]
        tools.append(Tool(f"dumpguard {engine}", argv))
    return tools + known_key_tools(setup, dumpguard)


def known_key_tools(setup: Setup, dumpguard: Path) -> list[Tool]:
    """The issue-3 runs: the structured scan alone, then one run per known-keys set, all with
    dumpguard's defaults (engine, --jobs)."""
    if not setup.known_sets:
        return []
    base = [str(dumpguard), "scan", str(setup.image), "--format", "json"]
    tools = [Tool(STRUCTURED_LABEL, base, known_set="")]
    for name in setup.known_sets:
        known_dir = setup.manifest.known_dir(setup.image.parent, name)
        argv = [*base, "--known-keys", str(known_dir)]
        tools.append(Tool(KNOWN_LABEL.format(name), argv, known_set=name))
    return tools


def make_checks(tools: Sequence[Tool], manifest: Manifest) -> dict[str, KeyCheck]:
    """One check per dumpguard run; a known-keys run must also find its set's raw numbers."""
    checks = {f"dumpguard {engine}": KeyCheck() for engine in ENGINES}
    for tool in tools:
        if tool.known_set is not None:
            raw = manifest.planted_in_set(tool.known_set) if tool.known_set else []
            checks[tool.label] = KeyCheck(raw=tuple(raw))
    return checks


def measure(tools: Sequence[Tool], setup: Setup, checks: dict[str, KeyCheck]) -> None:
    """Interleave the tools each repetition, so a noisy spell hits them all alike."""
    for repetition in range(1, setup.repetitions + 1):
        for tool in tools:
            output = setup.scratch / "stdout.txt" if tool.keeps_output else None
            run = run_measured(
                tool.argv,
                output,
                setup.scratch,
                setup.timeout,
                setup.meter,
                sample_tree=tool.known_set is not None,
            )
            tool.runs.append(run)
            tree = (
                "" if run.tree_pss_kib is None else f"  tree pss {run.tree_pss_kib / 1024:7.1f} MiB"
            )
            print(
                f"  run {repetition}/{setup.repetitions} {tool.label:<22} {run.seconds:8.2f} s"
                f"  rss {run.peak_rss_kib / 1024:7.1f} MiB{tree}  cpu {run.cpu_seconds:7.2f} s"
                f"  exit {run.returncode}",
                flush=True,
            )
            if output is not None:
                inspect_output(tool, run, output, setup, checks)
                output.unlink()  # yara -s output holds matched bytes


def inspect_output(
    tool: Tool, run: Run, output: Path, setup: Setup, checks: dict[str, KeyCheck]
) -> None:
    if tool.label == "yara CLI":
        offsets = yara_match_offsets(output)
        anchored = sum(key.offset in offsets for key in setup.manifest.keys)
        tool.notes.update(
            {"string_match_offsets": len(offsets), "planted_anchors_matched": anchored}
        )
        if run.returncode != 0:
            tool.notes["error"] = stderr_tail(setup.scratch)
    elif tool.label in checks:
        check = checks[tool.label]
        if run.returncode not in (0, 1):  # 1: findings at or above --fail-on (expected here)
            check.failures.append(f"exit {run.returncode}: {stderr_tail(setup.scratch)}")
        check_report(output, setup.manifest, check)


# ---------------------------------------------------------------- printing and saving


def print_results(tools: Sequence[Tool], setup: Setup, checks: dict[str, KeyCheck]) -> None:
    print(f"\n{'':24}{'best s':>9}{'MB/s':>10}{'peak RSS MiB':>14}")
    for tool in tools:
        if tool.known_set is not None:
            continue  # the issue-3 runs have their own table
        print(
            f"{tool.label:<24}{tool.best_seconds:9.2f}{tool.mb_per_s(setup.size):10.1f}"
            f"{tool.peak_rss_mib:14.1f}"
        )
    by_label = {tool.label: tool for tool in tools}
    yara_cli, cat = by_label["yara CLI"], by_label["cat"]
    print(
        f"yara CLI string-match offsets: {yara_cli.notes.get('string_match_offsets')}, "
        f"at planted key offsets: {yara_cli.notes.get('planted_anchors_matched')}"
        f"/{len(setup.manifest.keys)}"
    )
    for engine in ENGINES:
        tool = by_label[f"dumpguard {engine}"]
        vs_yara = yara_cli.best_seconds / tool.best_seconds
        vs_cat = cat.best_seconds / tool.best_seconds
        met = "met" if vs_yara >= RATIO_TARGET else "NOT met"
        rss_met = "met" if tool.peak_rss_mib < RSS_TARGET_MIB else "NOT met"
        print(
            f"dumpguard {engine}: {vs_yara:.2f}x yara CLI (target >= {RATIO_TARGET}: {met}), "
            f"{vs_cat:.3f}x cat, peak RSS {tool.peak_rss_mib:.0f} MiB "
            f"(target < {RSS_TARGET_MIB}: {rss_met})"
        )
    for engine in ENGINES:
        print_key_check(engine, checks[f"dumpguard {engine}"], len(setup.manifest.keys))
    faster, slower = sorted(
        (by_label[f"dumpguard {e}"] for e in ENGINES), key=lambda t: t.best_seconds
    )
    print(
        f"faster engine: {faster.label.split()[-1]} ({faster.best_seconds:.2f} s vs "
        f"{slower.label.split()[-1]} {slower.best_seconds:.2f} s)"
    )


def print_key_check(engine: str, check: KeyCheck, planted: int) -> None:
    found = planted - len(check.missed)
    print(f"planted keys found by {engine}: {found}/{planted}")
    for failure in check.failures:
        print(f"  scan failed: {failure}")
    for name, why in check.missed.items():
        print(f"  MISSED {name}: {why}")
    if not check.unexpected:
        print(f"  unexpected findings at high or above ({engine}): none")
    for offset, finding in sorted(check.unexpected.items()):
        print(f"  UNEXPECTED at {offset}: {finding}")


def print_known_results(tools: Sequence[Tool], setup: Setup, checks: dict[str, KeyCheck]) -> None:
    """The issue-3 table: each run's speed, its ratio to cat, memory, and what it found."""
    runs = [tool for tool in tools if tool.known_set is not None]
    if not runs:
        print("known-key searches (issue 3): skipped (--skip-known)")
        return
    cat = next(tool for tool in tools if tool.label == "cat")
    print(
        "\nknown-key searches (issue 3): dumpguard scan IMAGE --format json "
        "[--known-keys known/SET], defaults (yara-x, --jobs 2)"
    )
    print(
        f"{'':18}{'best s':>8}{'MB/s':>9}{'x cat':>8}{'cores':>7}{'RSS MiB':>9}"
        f"{'tree PSS':>10}{'raw found':>11}{'keys found':>12}{'unexpected':>12}"
    )
    for tool in runs:
        print(_known_row(tool, cat, checks[tool.label], setup))
    at_header = sorted({name for tool in runs for name in checks[tool.label].raw_at_header})
    if at_header:
        print(
            f"raw numbers reported at their ASN.1 header's first byte rather than the number's "
            f"(counted as found): {', '.join(at_header)}"
        )
    print_search_cost(runs)
    for name, target in KNOWN_TARGETS_MB_S.items():
        print(target_line(name, target, runs, checks, setup.size))
    for tool in runs:
        print_run_problems(tool.label, checks[tool.label])


def _known_row(tool: Tool, cat: Tool, check: KeyCheck, setup: Setup) -> str:
    raw = f"{len(check.raw) - len(check.raw_missed)}/{len(check.raw)}" if tool.known_set else "-"
    keys = f"{len(setup.manifest.keys) - len(check.missed)}/{len(setup.manifest.keys)}"
    pss = tool.peak_tree_pss_mib
    return (
        f"{tool.label:<18}{tool.best_seconds:8.2f}{tool.mb_per_s(setup.size):9.1f}"
        f"{cat.best_seconds / tool.best_seconds:8.3f}{tool.cores_used:7.2f}"
        f"{tool.peak_rss_mib:9.0f}{'-' if pss is None else f'{pss:.0f}':>10}{raw:>11}{keys:>12}"
        f"{len(check.unexpected):12d}"
    )


def search_costs(runs: Sequence[Tool]) -> dict[str, float]:
    """Seconds each known-keys run took beyond the structured scan alone (best of N each)."""
    structured = next((tool for tool in runs if tool.known_set == ""), None)
    if structured is None:
        return {}
    return {
        str(tool.known_set): tool.best_seconds - structured.best_seconds
        for tool in runs
        if tool.known_set
    }


def print_search_cost(runs: Sequence[Tool]) -> None:
    costs = search_costs(runs)
    if not costs:
        return
    listed = ", ".join(f"{name} {seconds:+.2f} s" for name, seconds in costs.items())
    print(f"search cost beyond the structured scan: {listed}")
    one, hundred = costs.get("rsa-1"), costs.get("rsa-100")
    if one is not None and hundred is not None and one > 0.05:
        print(f"  100 known RSA keys cost {hundred / one:.1f}x what 1 costs (100x the keys)")


def _run_with(name: str, runs: Sequence[Tool]) -> Tool | None:
    return next((tool for tool in runs if tool.known_set == name), None)


def target_met(tool: Tool, target: float, check: KeyCheck, size: int) -> bool:
    """Fast enough, and with every planted key and number found (the target says both)."""
    return tool.mb_per_s(size) >= target and check.ok


def target_line(
    name: str, target: float, runs: Sequence[Tool], checks: dict[str, KeyCheck], size: int
) -> str:
    tool = _run_with(name, runs)
    if tool is None:
        return f"target >= {target:.0f} MB/s with {name}: not measured"
    check = checks[tool.label]
    verdict = "met" if target_met(tool, target, check, size) else "NOT met"
    why = "" if check.ok else " (planted keys missed or the scan failed)"
    return (
        f"target >= {target:.0f} MB/s with {name}: {tool.mb_per_s(size):.1f} MB/s, {verdict}{why}"
    )


def print_run_problems(label: str, check: KeyCheck) -> None:
    for failure in check.failures:
        print(f"  {label}: scan failed: {failure}")
    for name, why in {**check.missed, **check.raw_missed}.items():
        print(f"  {label}: MISSED {name}: {why}")
    for offset, finding in sorted(check.unexpected.items()):
        print(f"  {label}: UNEXPECTED at {offset}: {finding}")


def results_record(
    tools: Sequence[Tool], setup: Setup, checks: dict[str, KeyCheck]
) -> dict[str, object]:
    by_label = {tool.label: tool for tool in tools}
    yara_best, cat_best = by_label["yara CLI"].best_seconds, by_label["cat"].best_seconds
    engine_best = {e: by_label[f"dumpguard {e}"].best_seconds for e in ENGINES}
    issue2 = [tool for tool in tools if tool.known_set is None]
    return {
        "version": 2,
        "image": {
            "path": str(setup.image),
            "size": setup.size,
            "reused": setup.reused,
            "params": setup.manifest.params,
            "page_counts": setup.manifest.page_counts,
            "planted_keys": len(setup.manifest.keys),
            "planted_raw_numbers": len(setup.manifest.raw),
        },
        "repetitions": setup.repetitions,
        "rss_method": setup.meter.method,
        "threads": "yara CLI: one thread for one file; dumpguard: its default --jobs 2",
        "tools": {tool.label: tool_record(tool, setup.size) for tool in issue2},
        "ratios": {
            **{f"dumpguard_{e}_vs_yara_cli": round(yara_best / engine_best[e], 3) for e in ENGINES},
            **{f"dumpguard_{e}_vs_cat": round(cat_best / engine_best[e], 4) for e in ENGINES},
        },
        "targets": {"ratio_vs_yara_cli": RATIO_TARGET, "peak_rss_mib_below": RSS_TARGET_MIB},
        "keys": {e: key_check_record(checks[f"dumpguard {e}"], setup) for e in ENGINES},
        "faster_engine": min(engine_best, key=lambda engine: engine_best[engine]),
        "known_keys": known_keys_record(tools, setup, checks),
        "all_keys_found": all_found(checks),
    }


def known_keys_record(
    tools: Sequence[Tool], setup: Setup, checks: dict[str, KeyCheck]
) -> dict[str, object]:
    runs = [tool for tool in tools if tool.known_set is not None]
    if not runs:
        return {"skipped": True}
    cat_best = next(tool for tool in tools if tool.label == "cat").best_seconds
    return {
        "skipped": False,
        "memory_method": "peak_tree_pss_mib: summed PSS of the command's process tree, "
        f"sampled every {TREE_SAMPLE_SECONDS} s; peak_rss_mib: its largest process",
        "runs": {
            tool.known_set or "structured": {
                **tool_record(tool, setup.size),
                "known_keys_dir": tool.argv[-1] if tool.known_set else None,
                "vs_cat": round(cat_best / tool.best_seconds, 4),
                "cores_used": round(tool.cores_used, 2),
                "peak_tree_pss_mib": round(tool.peak_tree_pss_mib or 0.0, 1),
                "keys": key_check_record(checks[tool.label], setup),
            }
            for tool in runs
        },
        "search_cost_s": {name: round(cost, 3) for name, cost in search_costs(runs).items()},
        "targets": {
            name: target_record(_run_with(name, runs), target, checks, setup.size)
            for name, target in KNOWN_TARGETS_MB_S.items()
        },
    }


def target_record(
    tool: Tool | None, target: float, checks: dict[str, KeyCheck], size: int
) -> dict[str, object]:
    if tool is None:
        return {"mb_per_s_at_least": target, "measured": False}
    return {
        "mb_per_s_at_least": target,
        "mb_per_s": round(tool.mb_per_s(size), 2),
        "met": target_met(tool, target, checks[tool.label], size),
    }


def tool_record(tool: Tool, size: int) -> dict[str, object]:
    return {
        "argv": tool.argv,
        "times_s": [round(run.seconds, 4) for run in tool.runs],
        "exit_codes": [run.returncode for run in tool.runs],
        "best_s": round(tool.best_seconds, 4),
        "mb_per_s": round(tool.mb_per_s(size), 2),
        "peak_rss_mib": round(tool.peak_rss_mib, 1),
        **tool.notes,
    }


def key_check_record(check: KeyCheck, setup: Setup) -> dict[str, object]:
    record: dict[str, object] = {
        "found": len(setup.manifest.keys) - len(check.missed),
        "missed": check.missed,
        "unexpected_high_or_above": list(check.unexpected.values()),
        "failures": check.failures,
    }
    if check.raw:
        record["raw_expected"] = len(check.raw)
        record["raw_found"] = len(check.raw) - len(check.raw_missed)
        record["raw_missed"] = check.raw_missed
        record["raw_found_at_header_offset"] = sorted(check.raw_at_header)
    return record


def all_found(checks: dict[str, KeyCheck]) -> bool:
    return all(check.ok for check in checks.values())


# ---------------------------------------------------------------- entry point


def find_dumpguard() -> Path | None:
    for candidate in (REPO_ROOT / ".venv/bin/dumpguard", Path(sys.executable).parent / "dumpguard"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def rule_files() -> list[Path]:
    if not RULES_DIR.is_dir():
        return []
    return sorted(path for path in RULES_DIR.rglob("*") if path.suffix in RULE_SUFFIXES)


def warm_cache(image: Path) -> None:
    subprocess.run(["cat", str(image)], stdout=subprocess.DEVNULL, check=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size", type=bench_image.parse_size, default=None, help="image size (default 1GiB)"
    )
    parser.add_argument("--quick", action="store_true", help="256 MiB image, 1 repetition")
    parser.add_argument("--repetitions", type=int, default=None, help="runs per tool (3)")
    parser.add_argument("--seed", type=int, default=bench_image.DEFAULT_SEED)
    parser.add_argument("--timeout", type=float, default=None, help="seconds per run")
    parser.add_argument(
        "--skip-known",
        action="store_true",
        help="only the issue-2 comparison (cat, yara CLI, engines): no known-key searches",
    )
    args = parser.parse_args(argv)
    args.size = args.size or (QUICK_SIZE if args.quick else bench_image.parse_size("1GiB"))
    args.repetitions = args.repetitions or (1 if args.quick else 3)
    # generous: 300 s plus 1 s per MiB (1 MiB/s would already be a failure worth seeing)
    args.timeout = args.timeout or 300 + args.size / (1 << 20)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    yara, dumpguard, rules = shutil.which("yara"), find_dumpguard(), rule_files()
    if yara is None:
        print("install yara: apt-get install yara")
        return EXIT_SETUP
    if dumpguard is None or not rules:
        print(
            f"dumpguard is not installed ({REPO_ROOT / '.venv/bin/dumpguard'}) or "
            f"{RULES_DIR} holds no rules: run `make install`"
        )
        return EXIT_SETUP
    print(f"image: {IMAGE_DIR / bench_image.IMAGE_NAME}, {args.size / (1 << 20):.0f} MiB")
    manifest, reused = bench_image.ensure_image(IMAGE_DIR, BuildParams(args.size, args.seed))
    print(
        f"  {'reused (parameters match)' if reused else 'built'}; pages {manifest.page_counts}; "
        f"{len(manifest.keys)} planted keys, {len(manifest.raw)} raw numbers; known-keys sets: "
        + ", ".join(f"{name} ({len(prints)})" for name, prints in manifest.known_sets.items())
    )
    meter = RssMeter()
    print(
        f"yara {tool_version([yara, '--version'])}; "
        f"{tool_version([str(dumpguard), '--version'])}; rules: {len(rules)} files; "
        f"best of {args.repetitions}, wall clock, end to end (yara CLI: one thread; dumpguard: "
        f"its default --jobs 2); peak RSS: {meter.method}"
    )
    image = IMAGE_DIR / bench_image.IMAGE_NAME
    warm_cache(image)
    with tempfile.TemporaryDirectory(prefix="bench-", dir=IMAGE_DIR) as scratch:
        known_sets = () if args.skip_known else tuple(manifest.known_sets)
        setup = Setup(
            image,
            args.size,
            manifest,
            reused,
            args.repetitions,
            args.timeout,
            Path(scratch),
            meter,
            known_sets,
        )
        tools = make_tools(setup, yara, dumpguard, rules)
        checks = make_checks(tools, manifest)
        measure(tools, setup, checks)
    print_results(tools, setup, checks)
    print_known_results(tools, setup, checks)
    RESULTS_PATH.write_text(json.dumps(results_record(tools, setup, checks), indent=2) + "\n")
    print(f"numbers written to {RESULTS_PATH}")
    return EXIT_OK if all_found(checks) else EXIT_MISSED


if __name__ == "__main__":
    sys.exit(main())
