"""Where a record sits in the log. Pure.

The worker's storage agent reads it off each record; the PostgreSQL sink stores it beside
the rows it writes, so a row can be traced back to its record.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Position:
    """Where a record sits in the log; stored so a row can be traced back to it."""

    topic: str
    partition: int
    offset: int
