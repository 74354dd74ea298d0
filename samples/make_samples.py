"""Make the real artifacts dumpguard is tested and demonstrated on.

    python samples/make_samples.py [--out DIR] [--quick]

Writes gcore dumps of real processes, planted-key files, containers, a
known-keys directory and manifest.json (see samples/README.md) into DIR
(default samples/out/, git-ignored).  Keys are fresh on every run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from samplegen.build import build
from samplegen.errors import SampleError

DEFAULT_OUT = Path(__file__).resolve().parent / "out"


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="output directory, replaced as a whole (default: samples/out)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="skip the slower samples (the RSA-4096 planted key)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    started = time.monotonic()
    try:
        manifest_path = build(arguments.out, arguments.quick)
    except SampleError as error:
        print(f"make_samples: error: {error}", file=sys.stderr)
        return 1
    artifact_count = len(json.loads(manifest_path.read_text())["artifacts"])
    elapsed = time.monotonic() - started
    print(f"make_samples: {artifact_count} artifacts in {manifest_path.parent} ({elapsed:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
