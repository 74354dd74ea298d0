"""`make bench`: dumpguard's scan speed and memory against `cat` and the yara CLI.

One run: build (or reuse) a 1 GiB memory image with planted keys (samples/bench_image.py),
warm the page cache, then time, best of 3 (the machine is shared and noisy), interleaved:

    cat IMAGE > /dev/null                                   the disk/page-cache ceiling
    yara -w -s RULES... IMAGE                               the same rules, one C process
    dumpguard scan IMAGE --format json --engine yara-x      end to end: start-up, rule
    dumpguard scan IMAGE --format json --engine yara-python compilation, scan, proof, report

Times are wall clock, end to end.  The yara CLI scans one file on one thread; dumpguard runs
with its defaults (--jobs 2).  Peak RSS is the command's alone, see `RssMeter`.

Prints MB/s (10**6 bytes per second) of each, the ratios dumpguard/yara-CLI (target >= 3.0)
and dumpguard/cat, whether every planted key was found (offset and fingerprint; encrypted keys
by offset and kind), unexpected findings at high or above, peak RSS (target < 512 MiB) and the
faster engine.  Writes the numbers to samples/out/bench.json.  Exit 0 when every planted key
was found by both engines, 1 when one was missed or a scan failed, 2 when a tool is missing.
The speed and memory targets are reported, not asserted.
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
from bench_image import BuildParams, Manifest, PlantedKey

REPO_ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = REPO_ROOT / "samples" / "out"
IMAGE_DIR = OUT_DIR / "bench"
RESULTS_PATH = OUT_DIR / "bench.json"
RULES_DIR = REPO_ROOT / "rules"
RULE_SUFFIXES = (".yar", ".yara")  # as scanner.detectors.engines.base.rule_files_in
ENGINES = ("yara-x", "yara-python")
RATIO_TARGET = 3.0
RSS_TARGET_MIB = 512
QUICK_SIZE = 256 * 1024 * 1024
GATING_SEVERITIES = frozenset({"high", "critical"})
EXIT_OK, EXIT_MISSED, EXIT_SETUP = 0, 1, 2
GNU_TIME = "/usr/bin/time"


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_kib: int
    returncode: int


@dataclass
class Tool:
    """One measured command and what its runs gave."""

    label: str
    argv: list[str]
    keeps_output: bool = True
    runs: list[Run] = field(default_factory=list)
    notes: dict[str, object] = field(default_factory=dict)

    @property
    def best_seconds(self) -> float:
        return min(run.seconds for run in self.runs)

    @property
    def peak_rss_mib(self) -> float:
        return max(run.peak_rss_kib for run in self.runs) / 1024

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


def run_measured(
    argv: Sequence[str], stdout_path: Path | None, scratch: Path, timeout: float, meter: RssMeter
) -> Run:
    """Run `argv` (stdout to `stdout_path`, or /dev/null); wall time and the child's peak RSS.

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
        if poller:
            poller.start()
        killer = threading.Timer(timeout, os.killpg, (process.pid, signal.SIGKILL))
        killer.start()
        try:
            returncode = process.wait()
        finally:
            killer.cancel()
        elapsed = time.perf_counter() - started
    return Run(elapsed, meter.peak_kib(rss_report, poller), returncode)


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
    """Planted keys against one engine's reports (a key missed in any run is missed)."""

    missed: dict[str, str] = field(default_factory=dict)  # name -> why
    unexpected: dict[int, dict[str, object]] = field(default_factory=dict)  # offset -> finding
    failures: list[str] = field(default_factory=list)


def _matches(key: PlantedKey, finding: dict[str, object]) -> bool:
    if finding.get("offset") != key.offset:
        return False
    if key.fingerprint is None:
        return finding.get("kind") == key.kind
    return finding.get("fingerprint") == key.fingerprint


def _why_missed(key: PlantedKey, findings: Sequence[dict[str, object]]) -> str:
    for finding in findings:
        if key.fingerprint is not None and finding.get("fingerprint") == key.fingerprint:
            return f"not at offset {key.offset}; same fingerprint at offset {finding.get('offset')}"
        if finding.get("offset") == key.offset:
            reported = f"{finding.get('kind')} {finding.get('fingerprint')}"
            return f"offset {key.offset} reported as {reported}"
    return f"no finding at offset {key.offset}"


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
        return
    for item in inputs:
        if item.get("status") != "ok":
            result.failures.append(f"input not scanned: {item.get('error')}")
    for key in manifest.keys:
        if not any(_matches(key, finding) for finding in findings):
            result.missed.setdefault(key.name, _why_missed(key, findings))
    planted_offsets = {key.offset for key in manifest.keys}
    for finding in findings:
        offset = finding.get("offset")
        if finding.get("severity") in GATING_SEVERITIES and offset not in planted_offsets:
            result.unexpected[int(str(offset))] = _describe_unexpected(finding, manifest)


def _describe_unexpected(finding: dict[str, object], manifest: Manifest) -> dict[str, object]:
    twin = next(
        (k.name for k in manifest.keys if k.fingerprint == finding.get("fingerprint")), None
    )
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


def make_tools(setup: Setup, yara: str, dumpguard: Path, rule_files: Sequence[Path]) -> list[Tool]:
    image = str(setup.image)
    tools = [
        Tool("cat", ["cat", image], keeps_output=False),  # cat IMAGE > /dev/null
        Tool("yara CLI", [yara, "-w", "-s", *map(str, rule_files), image]),
    ]
    for engine in ENGINES:
        argv = [str(dumpguard), "scan", image, "--format", "json", "--engine", engine]
        tools.append(Tool(f"dumpguard {engine}", argv))
    return tools


def measure(tools: Sequence[Tool], setup: Setup, checks: dict[str, KeyCheck]) -> None:
    """Interleave the tools each repetition, so a noisy spell hits them all alike."""
    for repetition in range(1, setup.repetitions + 1):
        for tool in tools:
            output = setup.scratch / "stdout.txt" if tool.keeps_output else None
            run = run_measured(tool.argv, output, setup.scratch, setup.timeout, setup.meter)
            tool.runs.append(run)
            print(
                f"  run {repetition}/{setup.repetitions} {tool.label:<22} {run.seconds:8.2f} s"
                f"  rss {run.peak_rss_kib / 1024:7.1f} MiB  exit {run.returncode}",
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
    elif tool.label.startswith("dumpguard"):
        check = checks[tool.label]
        if run.returncode not in (0, 1):  # 1: findings at or above --fail-on (expected here)
            check.failures.append(f"exit {run.returncode}: {stderr_tail(setup.scratch)}")
        check_report(output, setup.manifest, check)


# ---------------------------------------------------------------- printing and saving


def print_results(tools: Sequence[Tool], setup: Setup, checks: dict[str, KeyCheck]) -> None:
    print(f"\n{'':24}{'best s':>9}{'MB/s':>10}{'peak RSS MiB':>14}")
    for tool in tools:
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


def results_record(
    tools: Sequence[Tool], setup: Setup, checks: dict[str, KeyCheck]
) -> dict[str, object]:
    by_label = {tool.label: tool for tool in tools}
    yara_best, cat_best = by_label["yara CLI"].best_seconds, by_label["cat"].best_seconds
    engine_best = {e: by_label[f"dumpguard {e}"].best_seconds for e in ENGINES}
    return {
        "version": 1,
        "image": {
            "path": str(setup.image),
            "size": setup.size,
            "reused": setup.reused,
            "params": setup.manifest.params,
            "page_counts": setup.manifest.page_counts,
            "planted_keys": len(setup.manifest.keys),
        },
        "repetitions": setup.repetitions,
        "rss_method": setup.meter.method,
        "threads": "yara CLI: one thread for one file; dumpguard: its default --jobs 2",
        "tools": {tool.label: tool_record(tool, setup.size) for tool in tools},
        "ratios": {
            **{f"dumpguard_{e}_vs_yara_cli": round(yara_best / engine_best[e], 3) for e in ENGINES},
            **{f"dumpguard_{e}_vs_cat": round(cat_best / engine_best[e], 4) for e in ENGINES},
        },
        "targets": {"ratio_vs_yara_cli": RATIO_TARGET, "peak_rss_mib_below": RSS_TARGET_MIB},
        "keys": {e: key_check_record(checks[f"dumpguard {e}"], setup) for e in ENGINES},
        "faster_engine": min(engine_best, key=lambda engine: engine_best[engine]),
        "all_keys_found": all_found(checks),
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
    return {
        "found": len(setup.manifest.keys) - len(check.missed),
        "missed": check.missed,
        "unexpected_high_or_above": list(check.unexpected.values()),
        "failures": check.failures,
    }


def all_found(checks: dict[str, KeyCheck]) -> bool:
    return all(not check.missed and not check.failures for check in checks.values())


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
        f"{len(manifest.keys)} planted keys"
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
        setup = Setup(
            image, args.size, manifest, reused, args.repetitions, args.timeout, Path(scratch), meter
        )
        tools = make_tools(setup, yara, dumpguard, rules)
        checks = {f"dumpguard {engine}": KeyCheck() for engine in ENGINES}
        measure(tools, setup, checks)
    print_results(tools, setup, checks)
    RESULTS_PATH.write_text(json.dumps(results_record(tools, setup, checks), indent=2) + "\n")
    print(f"numbers written to {RESULTS_PATH}")
    return EXIT_OK if all_found(checks) else EXIT_MISSED


if __name__ == "__main__":
    sys.exit(main())
