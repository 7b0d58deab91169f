"""The command line face (``albumfinder-cli``): parsers and dispatch in :mod:`.main`, the
seed form in :mod:`.seed`, one module per command, progress and the result picture."""

from albumfinder.cli.main import main

__all__ = ["main"]
