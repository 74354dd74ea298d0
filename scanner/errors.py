"""One root error, one subclass per pipeline stage.

Messages never hold key bytes (no hex, no base64, no PEM body): they name the
input and say what went wrong, so they can be printed, logged and put in a
report as they are.  Only the CLI maps outcomes to exit codes.
"""

from __future__ import annotations


class ScannerError(Exception):
    """Root of every error dumpguard raises on purpose."""


class ConfigError(ScannerError):
    """A bad option or an unusable user-supplied file (rules, known keys)."""


class SourceError(ScannerError):
    """An input could not be opened, walked or unpacked."""


class ExpansionLimitError(SourceError):
    """A container expanded past the configured limit (decompression bomb guard)."""


class FormatError(ScannerError):
    """A dump reader could not make sense of its input (truncated, corrupt, hostile)."""


class DetectorError(ScannerError):
    """The rule engine or a detector failed on an input."""


class KeyProofError(ScannerError):
    """A candidate is not a provable key; rejected, never reported."""


class KnownKeyError(ConfigError):
    """An entry of a --known-keys file could not be parsed (names file and line)."""


class ReportError(ScannerError):
    """A report could not be written."""


class ScrubError(ScannerError):
    """A dump could not be scrubbed (or its scrubbed copy still holds a key)."""
