"""The one error a benchmark stops on."""

from __future__ import annotations


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""
