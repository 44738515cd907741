"""Which failures are worth retrying, and how long to wait. Pure."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import structlog

from switchboard.sentry import capture

log = structlog.get_logger(__name__)

# SQLSTATE classes that describe the server or the connection, not the data:
# connection exception, transaction rollback (deadlock, serialization), insufficient
# resources, operator intervention (shutdown, cancelled), system error.
_TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
# Attempts of `until_done` reported to Sentry: the first failure, and a reminder while the
# partition keeps waiting, without one report per retry.
REPORTED_ATTEMPTS = frozenset({1, 10, 100, 1000})


def is_transient_sqlstate(sqlstate: str | None) -> bool:
    return sqlstate is not None and sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES


def backoff_seconds(
    attempt: int, base: float = 0.2, cap: float = 10.0, jitter: random.Random | None = None
) -> float:
    """Exponential backoff with full jitter; ``attempt`` counts from 1."""
    ceiling = min(cap, base * (2 ** (attempt - 1)))
    return (jitter or random).uniform(ceiling / 2, ceiling)


async def until_done(
    operation: Callable[[], Awaitable[None]],
    what: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Run ``operation`` until it succeeds, pausing longer after each failure.

    For work on one record whose offset must not be committed before it is done: giving up
    would drop the record, so the partition waits instead, and lag and logs show why.
    Only the exception's type is logged: its message may quote personal data.
    """
    attempt = 0
    while True:
        try:
            await operation()
        except Exception as exc:
            attempt += 1
            delay = backoff_seconds(attempt, base=0.5, cap=30.0)
            if attempt in REPORTED_ATTEMPTS:
                capture(exc, agent=what, attempt=str(attempt))
            # Not log.exception: a traceback carries the message, which may quote personal data.
            log.error(  # noqa: TRY400
                "record_retry", what=what, error=type(exc).__name__, attempt=attempt
            )
            await sleep(delay)
        else:
            return
