"""The one error the sample builder raises on purpose."""

from __future__ import annotations


class SampleError(Exception):
    """A sample could not be built; the message says which and why (never key bytes)."""
