"""Entry point for `python -m cyberstd`."""

from cyberstd.cli import main

main()
