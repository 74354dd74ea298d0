"""The command line: a thin typer layer over `scanner.scan` and the reporters.

Only this module maps outcomes to exit codes: 0 every input scanned and
nothing at or above --fail-on; 1 a finding at or above it; 2 an input that
could not be scanned, or a usage/configuration error.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import re
import sys
import warnings
from pathlib import Path
from typing import Annotated, BinaryIO, NoReturn, assert_never

import typer
from cryptography.utils import CryptographyDeprecationWarning

from scanner import __version__
from scanner.baseline import baseline_entries, today_utc, write_baseline
from scanner.config import (
    DEFAULT_MAX_EXPANSION,
    EngineName,
    FailOn,
    OutputFormat,
    ScanConfig,
    Severity,
)
from scanner.errors import ConfigError, ScannerError
from scanner.export import Decision, ExportConfig, ExportRecord, export
from scanner.inspection import Inspected, inspect_inputs
from scanner.keys.base import KnownKey
from scanner.keys.known import load_known_keys
from scanner.pipeline import scan
from scanner.progress import TerminalProgress
from scanner.report import GateDecision, Report, gate
from scanner.reporters import write_report
from scanner.reporters.base import finding_record
from scanner.scrub import ScrubConfig, scrub

EXIT_PASS, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

# Tracebacks with local variables could print key bytes held by a parser: off.
app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Find and prove private-key material in crash dumps and memory images.",
)

_SIZE = re.compile(r"^\s*(\d+)\s*([kmgt]?)(i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """'512MiB', '64G', '1000' -> bytes (binary units)."""
    match = _SIZE.match(text)
    if not match:
        raise typer.BadParameter(f"not a size: {text!r} (e.g. 512MiB, 64GiB)")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def exit_code(decision: GateDecision) -> int:
    if decision is GateDecision.CLEAN:
        return EXIT_PASS
    if decision is GateDecision.FINDINGS:
        return EXIT_FINDINGS
    if decision is GateDecision.INCOMPLETE:
        return EXIT_ERROR
    assert_never(decision)


def _fail(error: ScannerError) -> NoReturn:
    print(f"dumpguard: error: {error}", file=sys.stderr)
    raise typer.Exit(EXIT_ERROR)


def _stdin_for(paths: list[str]) -> BinaryIO | None:
    return sys.stdin.buffer if "-" in paths else None


PathsArg = Annotated[list[str], typer.Argument(metavar="PATH...", help="Files, dirs, or -")]
MaxExpansionOpt = Annotated[
    str, typer.Option("--max-expansion", help="Bytes one input may expand to in containers.")
]


@app.command("scan")
def scan_command(
    paths: PathsArg,
    known_keys: Annotated[
        list[Path] | None, typer.Option("--known-keys", help="Public keys to match (repeatable).")
    ] = None,
    rules: Annotated[
        list[Path] | None, typer.Option("--rules", help="Extra YARA rule directory (repeatable).")
    ] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
    fail_on: Annotated[FailOn, typer.Option("--fail-on")] = FailOn.HIGH,
    engine: Annotated[EngineName, typer.Option("--engine")] = EngineName.YARA_X,
    max_expansion: MaxExpansionOpt = f"{DEFAULT_MAX_EXPANSION >> 30}GiB",
    jobs: Annotated[int, typer.Option("--jobs", min=1, max=64)] = 2,
    deep: Annotated[
        bool, typer.Option("--deep", help="Brute-force raw EC scalars and seeds of known keys.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress line on a terminal's stderr.")
    ] = False,
    password_file: Annotated[
        Path | None,
        typer.Option("--password-file", help="Keystore passwords to try, one a line (UTF-8)."),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="Accepted fingerprints (dumpguard baseline create)."),
    ] = None,
) -> None:
    """Scan dumps for private keys; the exit code gates (0 clean, 1 findings, 2 not scanned)."""
    config = ScanConfig(
        paths=tuple(paths),
        known_keys=tuple(known_keys or ()),
        rules_dirs=tuple(rules or ()),
        engine=engine,
        max_expansion=parse_size(max_expansion),
        jobs=jobs,
        deep=deep,
        keystore_passwords=_passwords_or_fail(password_file),
        baseline=baseline,
    )
    report = _scan_or_fail(config, paths, quiet)
    try:
        write_report(report, output_format, output)
    except ScannerError as error:
        _fail(error)
    _warn_expired(report)
    if not report.inputs:
        print("dumpguard: no input files found; nothing was scanned", file=sys.stderr)
    raise typer.Exit(exit_code(gate(report, fail_on)))


def _scan_or_fail(config: ScanConfig, paths: list[str], quiet: bool) -> Report:
    """Run the scan, with a progress line when stderr is a terminal and not --quiet."""
    try:
        with contextlib.ExitStack() as stack:
            progress = None
            if not quiet and sys.stderr.isatty():
                progress = stack.enter_context(TerminalProgress(sys.stderr))
            return scan(config, stdin=_stdin_for(paths), progress=progress)
    except ScannerError as error:
        _fail(error)


def _warn_expired(report: Report) -> None:
    lapsed = {
        (f.fingerprint, f.suppression.expires, f.suppression.reason)
        for f in report.findings
        if f.suppression is not None and not f.suppression.active
    }
    for fingerprint, expires, reason in sorted(lapsed, key=str):
        print(
            f"dumpguard: baseline entry for {fingerprint} expired on {expires} ({reason}); "
            "its findings count again",
            file=sys.stderr,
        )


baseline_app = typer.Typer(no_args_is_help=True, help="Accepted keys: baseline files.")
app.add_typer(baseline_app, name="baseline")


@baseline_app.command("create")
def baseline_create_command(
    paths: PathsArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="The baseline file to write.")],
    reason: Annotated[str, typer.Option("--reason", help="Why these keys may be in dumps.")],
    expires: Annotated[
        str | None, typer.Option("--expires", help="Last day the entries apply (YYYY-MM-DD).")
    ] = None,
    known_keys: Annotated[
        list[Path] | None, typer.Option("--known-keys", help="Public keys to match (repeatable).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Accept every key found in PATH... (test keys meant to be there): fingerprints only."""
    expiry = _date_or_fail(expires)
    if output.exists() and not force:
        _fail(ConfigError(f"{output}: exists; use --force to replace it"))
    config = ScanConfig(paths=tuple(paths), known_keys=tuple(known_keys or ()))
    report = _scan_or_fail(config, paths, quiet=True)
    if not report.complete or not report.inputs:
        for result in report.inputs:
            if result.error:
                print(f"dumpguard: {result.error}", file=sys.stderr)
        _fail(ConfigError("not every input could be scanned; no baseline written"))
    accepted = [f for f in report.findings if f.severity is not Severity.INFO]
    try:
        entries = baseline_entries(accepted, reason, expiry, today_utc())
        write_baseline(output, entries)
    except ScannerError as error:
        _fail(error)
    print(f"{len(entries)} fingerprint{'s' * (len(entries) != 1)} written to {output}")


def _date_or_fail(text: str | None) -> datetime.date | None:
    if text is None:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"not a date: {text!r} (YYYY-MM-DD)") from None


def read_password_file(path: Path) -> tuple[str, ...]:
    """One password a line, UTF-8 (a BOM is dropped), line breaks LF or CRLF.

    Errors name the file only: a decoding error's usual text would quote its bytes.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read password file: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: password file is not UTF-8 text") from None
    lines = (line.removesuffix("\r") for line in text.split("\n"))
    return tuple(dict.fromkeys(line for line in lines if line))


def _passwords_or_fail(path: Path | None) -> tuple[str, ...]:
    try:
        return read_password_file(path) if path is not None else ()
    except ConfigError as error:
        _fail(error)


@app.command("scrub")
def scrub_command(
    source: Annotated[Path, typer.Argument(metavar="IN", help="The dump to scrub.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where the scrubbed copy goes.")
    ] = None,
    in_place: Annotated[
        bool, typer.Option("--in-place", help="Replace IN itself (atomically).")
    ] = False,
    threshold: Annotated[
        Severity, typer.Option("--threshold", help="Wipe findings at or above this severity.")
    ] = Severity.HIGH,
    known_keys: Annotated[
        list[Path] | None, typer.Option("--known-keys", help="Public keys to match (repeatable).")
    ] = None,
    password_file: Annotated[
        Path | None,
        typer.Option("--password-file", help="Keystore passwords to try, one a line (UTF-8)."),
    ] = None,
    max_expansion: MaxExpansionOpt = f"{DEFAULT_MAX_EXPANSION >> 30}GiB",
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """Write a copy of IN with every key at or above --threshold wiped, in IN's own format.

    The copy is scanned again before it is written; if anything at or above the
    threshold is left, nothing is written and the exit code is 2.
    """
    if (output is None) == (not in_place):
        _fail(ConfigError("give either --output FILE or --in-place"))
    config = ScrubConfig(
        source=source,
        output=source if output is None else output,
        scan=ScanConfig(
            paths=(str(source),),
            known_keys=tuple(known_keys or ()),
            max_expansion=parse_size(max_expansion),
            keystore_passwords=_passwords_or_fail(password_file),
        ),
        threshold=threshold,
        in_place=in_place,
    )
    try:
        result = scrub(config)
    except ScannerError as error:
        _fail(error)
    fingerprints = sorted({f.fingerprint for f in result.scrubbed if f.fingerprint})
    if output_format is OutputFormat.TABLE:
        print(
            f"{result.source}: {len(result.scrubbed)} finding(s) at or above {threshold.value} "
            f"wiped ({len(result.wiped)} ranges, {result.wiped_bytes} bytes) into {result.output}; "
            f"the copy scans clean at or above {threshold.value}"
        )
        for fingerprint in fingerprints:
            print(f"  wiped key {fingerprint}")
    else:
        record = {
            "source": result.source,
            "output": result.output,
            "threshold": threshold.value,
            "findings": [finding_record(f) for f in result.scrubbed],
            "wiped": [dataclasses.asdict(wiped) for wiped in result.wiped],
            "wiped_bytes": result.wiped_bytes,
        }
        print(json.dumps(record, indent=2))


@app.command("export")
def export_command(
    sources: Annotated[list[Path], typer.Argument(metavar="SRC...", help="Dumps or dirs.")],
    to: Annotated[Path, typer.Option("--to", help="The export directory.")],
    scrub_findings: Annotated[
        bool, typer.Option("--scrub", help="Export dumps with findings scrubbed, not refused.")
    ] = False,
    fail_on: Annotated[FailOn, typer.Option("--fail-on")] = FailOn.HIGH,
    known_keys: Annotated[
        list[Path] | None, typer.Option("--known-keys", help="Public keys to match (repeatable).")
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="Accepted fingerprints (dumpguard baseline create)."),
    ] = None,
    audit_log: Annotated[
        Path | None,
        typer.Option("--audit-log", help="JSON Lines log (default DIR/dumpguard-audit.jsonl)."),
    ] = None,
    max_expansion: MaxExpansionOpt = f"{DEFAULT_MAX_EXPANSION >> 30}GiB",
) -> None:
    """Copy clean dumps to --to; refuse (or --scrub) dumps with findings; log every decision.

    Exit code: 0 every source exported; 1 one refused for findings; 2 one not
    scanned whole, already present, or failed.
    """
    config = ExportConfig(
        sources=tuple(sources),
        target=to,
        scan=ScanConfig(
            paths=(),
            known_keys=tuple(known_keys or ()),
            max_expansion=parse_size(max_expansion),
            baseline=baseline,
        ),
        fail_on=fail_on,
        scrub=scrub_findings,
        audit_log=audit_log,
    )
    decisions: list[Decision] = []
    try:
        for record in export(config):
            decisions.append(record.decision)
            print(_export_line(record))
    except ScannerError as error:
        _fail(error)
    except OSError as error:
        _fail(ConfigError(f"{to}: {error.strerror}"))
    print(
        f"{sum(d.exported for d in decisions)} of {len(decisions)} exported; log: {config.log_path}"
    )
    if Decision.REFUSED_FINDINGS in decisions:
        raise typer.Exit(EXIT_FINDINGS)
    if not decisions or not all(d.exported for d in decisions):
        raise typer.Exit(EXIT_ERROR)


def _export_line(record: ExportRecord) -> str:
    line = f"{record.decision.value}: {record.path}"
    if record.exported_to:
        line += f" -> {record.exported_to}"
    if record.fingerprints:
        line += f" ({', '.join(record.fingerprints)})"
    if record.reason:
        line += f": {record.reason}"
    return line


@app.command("inspect")
def inspect_command(
    paths: PathsArg,
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
    max_expansion: MaxExpansionOpt = f"{DEFAULT_MAX_EXPANSION >> 30}GiB",
) -> None:
    """Show what the format readers see: format, process, pid and every region."""
    config = ScanConfig(paths=tuple(paths), max_expansion=parse_size(max_expansion))
    inspected = list(inspect_inputs(config, stdin=_stdin_for(paths)))
    if output_format is OutputFormat.TABLE:
        _print_inspection_tables(inspected)
    else:
        records = [_inspection_record(item) for item in inspected]
        print(json.dumps({"version": 1, "inputs": records}, indent=2))
    raise typer.Exit(EXIT_ERROR if any(item.error for item in inspected) else EXIT_PASS)


def _inspection_record(item: Inspected) -> dict[str, object]:
    record: dict[str, object] = {"path": item.path, "containers": list(item.containers)}
    if item.view is not None:
        record.update(item.view)
    record["error"] = item.error
    return record


def _print_inspection_tables(inspected: list[Inspected]) -> None:
    from rich.console import Console  # noqa: PLC0415  (see reporters.table)
    from rich.table import Table  # noqa: PLC0415

    console = Console(width=160, highlight=False)
    for item in inspected:
        if item.view is None:
            console.print(f"[bold red]{item.path}[/]: {item.error}")
            continue
        view = item.view
        facts = [str(view["format"])]
        if view.get("process_name") is not None:
            facts.append(f"process {view['process_name']}")
        if view.get("pid") is not None:
            facts.append(f"pid {view['pid']}")
        console.print(f"[bold]{item.path}[/]: {', '.join(facts)}")
        if view.get("layers"):
            console.print(f"volatility3 layers: {view['layers']}")
        table = Table("file offset", "address", "size", "perms", "name")
        regions = view.get("regions")
        for region in regions if isinstance(regions, list) else []:
            address = region.get("address")
            table.add_row(
                f"0x{region['file_offset']:x}",
                f"0x{address:x}" if address is not None else "-",
                str(region["size"]),
                region.get("permissions") or "-",
                region.get("name") or "",
            )
        console.print(table)


@app.command("keys")
def keys_command(
    paths: Annotated[
        list[Path], typer.Argument(metavar="PATH...", help="Known-key files or directories.")
    ],
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """List what --known-keys would load: id, algorithm, size, fingerprint, source."""
    try:
        index = load_known_keys(tuple(paths))
    except ScannerError as error:
        _fail(error)
    if output_format is OutputFormat.TABLE:
        _print_known_keys(index.keys)
    else:
        records = [dataclasses.asdict(key) for key in index.keys]
        print(json.dumps({"version": 1, "keys": records}, indent=2))
    if not index.keys:
        print("dumpguard: no public keys found in the given paths", file=sys.stderr)
        raise typer.Exit(EXIT_ERROR)


def _print_known_keys(keys: tuple[KnownKey, ...]) -> None:
    from rich.console import Console  # noqa: PLC0415  (see reporters.table)
    from rich.table import Table  # noqa: PLC0415

    table = Table("id", "algorithm", "bits")
    table.add_column("fingerprint", min_width=71, no_wrap=True)
    table.add_column("source", overflow="fold")
    for key in keys:
        table.add_row(key.id, key.algorithm, str(key.bits or "-"), key.fingerprint, key.source)
    Console(width=None if sys.stdout.isatty() else 220, highlight=False).print(table)
    print(f"{len(keys)} known key{'s' * (len(keys) != 1)}")


@app.command("volatility-plugin-dir")
def volatility_plugin_dir_command() -> None:
    """Print the directory to give volatility3 (vol -p DIR dumpguard) for the plugin."""
    print(Path(__file__).resolve().parent / "vol3")


def _version_callback(value: bool) -> None:
    if value:
        print(f"dumpguard {__version__}")
        raise typer.Exit(EXIT_PASS)


@app.callback()
def main_callback(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True)
    ] = False,
) -> None:
    """dumpguard."""


def main() -> None:
    # cryptography warns when it loads old key types (DSA SSH keys); the report
    # already says what was found, so the warning would only be noise on stderr.
    warnings.filterwarnings("ignore", category=CryptographyDeprecationWarning)
    app()
