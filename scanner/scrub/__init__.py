"""Scrub stage: copies of dumps with every key found wiped, in the dump's own format.

`scrub(ScrubConfig) -> ScrubResult` (scanner.scrub.run) is the library entry;
`dumpguard scrub` and `dumpguard export --scrub` are thin layers over it.
"""

from scanner.scrub.run import ScrubConfig, ScrubResult, WipedRange, scrub

__all__ = ["ScrubConfig", "ScrubResult", "WipedRange", "scrub"]
