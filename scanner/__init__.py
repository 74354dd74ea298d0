"""dumpguard: find and prove private-key material in crash dumps and memory images.

The library API is what the command line uses::

    from scanner import ScanConfig, scan

    report = scan(ScanConfig(paths=("core.1234",), known_keys=(Path("jwks.json"),)))
    for finding in report.findings:
        print(finding.severity.value, finding.path, finding.fingerprint)
    decision = gate(report, FailOn.HIGH)  # CLEAN, FINDINGS or INCOMPLETE

`scan` raises only `ScannerError` subclasses for unusable options (a bad rule
or known-keys file); every per-input failure is data in `report.inputs`.

The names are loaded on first use (PEP 562), so that `import scanner` (and
every worker process that imports a submodule) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from scanner.config import FailOn, OutputFormat, ScanConfig, Severity
    from scanner.errors import ScannerError
    from scanner.findings import Finding
    from scanner.pipeline import scan
    from scanner.report import GateDecision, InputResult, InputStatus, Report, gate

# name -> the module that defines it
_API = {
    "scan": "scanner.pipeline",
    "ScanConfig": "scanner.config",
    "FailOn": "scanner.config",
    "OutputFormat": "scanner.config",
    "Severity": "scanner.config",
    "ScannerError": "scanner.errors",
    "Finding": "scanner.findings",
    "Report": "scanner.report",
    "InputResult": "scanner.report",
    "InputStatus": "scanner.report",
    "GateDecision": "scanner.report",
    "gate": "scanner.report",
}

__all__ = [
    "FailOn",
    "Finding",
    "GateDecision",
    "InputResult",
    "InputStatus",
    "OutputFormat",
    "Report",
    "ScanConfig",
    "ScannerError",
    "Severity",
    "__version__",
    "gate",
    "scan",
]


def __getattr__(name: str) -> object:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'scanner' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
