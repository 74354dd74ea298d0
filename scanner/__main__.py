"""`python -m scanner` runs the dumpguard CLI."""

from scanner.cli import main

main()
