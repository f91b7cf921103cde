"""The scrubber's own errors: one line for the user, and the exit status that goes with it.

Every error the scrubber raises on purpose (a bad configuration, a malformed map or code-set
table, a watcher that cannot start) is a :class:`ScrubberError`. The command line catches it
once, in :func:`scrubber.cli.app.main`, and prints ``scrubber: MESSAGE`` on standard error with the
error's ``exit_code`` (2 unless the error says otherwise). Other exceptions are bugs.
"""

from __future__ import annotations


class ScrubberError(Exception):
    """An error for the user: ``str()`` is one line; ``exit_code`` is the command's exit status."""

    exit_code: int = 2

    def __init__(self, message: str = "", exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        text = super().__str__()
        if "\n" in text or "\r" in text:  # one line, whatever the message was built from
            text = " ".join(part.strip() for part in text.splitlines() if part.strip())
        return text


__all__ = ["ScrubberError"]
