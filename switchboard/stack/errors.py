"""The one error type of the local stack, so that the CLI can print it without a traceback."""

from __future__ import annotations


class StackError(RuntimeError):
    """The local stack could not be started, found or stopped; the message says what to do."""
