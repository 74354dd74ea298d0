"""dumpguard: find and prove private-key material in crash dumps and memory images."""

__version__ = "0.1.0"
