"""The command line: one module a command, shared options and errors in ``common``.

Last in the flow: it only wires the packages below it and may import any of them; nothing
imports it.
"""

import sys


def main() -> None:
    """The ``scrubber`` command. The commands are imported here, so that a Ctrl-C while they load
    (a second or two on a busy machine) also ends with one line and status 130, not a traceback."""
    try:
        from scrubber.cli.app import main as run
    except KeyboardInterrupt:
        sys.stderr.write("scrubber: interrupted\n")
        sys.exit(130)
    run()


__all__ = ["main"]
