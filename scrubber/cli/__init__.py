"""The command line: one module a command, shared options and errors in ``common``.

Last in the flow: it only wires the packages below it and may import any of them; nothing
imports it.
"""

from scrubber.cli.app import main

__all__ = ["main"]
