"""Known-key component search (see base.py); the registry is in registry.py.

This package's __init__ stays empty on purpose: importing base.py (the chunk
driver does, for AddressSpace) must not pull in the searches' numpy and gmpy2
stack, which only scans with --known-keys need.
"""
