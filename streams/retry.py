"""Which failures are worth retrying, and how long to wait. Pure."""

from __future__ import annotations

import random

# SQLSTATE classes that describe the server or the connection, not the data:
# connection exception, transaction rollback (deadlock, serialization), insufficient
# resources, operator intervention (shutdown, cancelled), system error.
_TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})


def is_transient_sqlstate(sqlstate: str | None) -> bool:
    return sqlstate is not None and sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES


def backoff_seconds(
    attempt: int, base: float = 0.2, cap: float = 10.0, jitter: random.Random | None = None
) -> float:
    """Exponential backoff with full jitter; ``attempt`` counts from 1."""
    ceiling = min(cap, base * (2 ** (attempt - 1)))
    return (jitter or random).uniform(ceiling / 2, ceiling)
