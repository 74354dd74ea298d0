"""The command line: a thin typer layer over `scanner.scan` and the reporters.

Only this module maps outcomes to exit codes: 0 every input scanned and
nothing at or above --fail-on; 1 a finding at or above it; 2 an input that
could not be scanned, or a usage/configuration error.
"""

from __future__ import annotations

import json
import re
import sys
import warnings
from pathlib import Path
from typing import Annotated, BinaryIO, NoReturn, assert_never

import typer
from cryptography.utils import CryptographyDeprecationWarning

from scanner import __version__
from scanner.config import (
    DEFAULT_MAX_EXPANSION,
    EngineName,
    FailOn,
    OutputFormat,
    ScanConfig,
)
from scanner.errors import ScannerError
from scanner.inspection import Inspected, inspect_inputs
from scanner.pipeline import scan
from scanner.report import GateDecision, gate
from scanner.reporters import write_report

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
    )
    try:
        report = scan(config, stdin=_stdin_for(paths))
        write_report(report, output_format, output)
    except ScannerError as error:
        _fail(error)
    if not report.inputs:
        print("dumpguard: no input files found; nothing was scanned", file=sys.stderr)
    raise typer.Exit(exit_code(gate(report, fail_on)))


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
        console.print(
            f"[bold]{item.path}[/]: {view['format']}, process {view.get('process_name')}, "
            f"pid {view.get('pid')}"
        )
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
