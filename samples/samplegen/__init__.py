"""Builders for dumpguard's sample artifacts (run through samples/make_samples.py)."""
