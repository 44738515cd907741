"""One way to retry: exponential backoff with jitter and a cap, built on tenacity.

A `Backoff` is a class of work's base and cap (``SWITCHBOARD_RETRY_SECONDS``); a
policy built by `retrying` runs an operation again after each failure its classifier calls
transient, for a bounded number of attempts or until the task is cancelled (work on a record
that must not be dropped: the partition waits instead, and lag and logs show why).

Cancellation is never retried, nor anything that is not an ``Exception``. Each pause is
logged with the exception's type only (its message may quote personal data), and a policy
that ``reports`` sends the first failure to Sentry, then a reminder now and then.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import structlog
from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt, stop_never
from tenacity.retry import retry_if_exception

from switchboard.sentry import capture
from switchboard.settings import RetryWork, Settings

log = structlog.get_logger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Level = Literal["debug", "info", "warning", "error"]
# The classes of work, each with its backoff (``SWITCHBOARD_RETRY_SECONDS``).
Work = RetryWork

# Failures of a reporting policy sent to Sentry: the first, and a reminder while the work
# keeps waiting, without one report per retry.
REPORTED_ATTEMPTS = frozenset({1, 10, 100, 1000})
# Past this many doublings every wait is the cap; the bound keeps 2**n a small number.
_MAX_DOUBLINGS = 64


@dataclass(frozen=True)
class Backoff:
    """Waits of ``base``, 2·``base``, 4·``base``… at most ``cap`` seconds, each drawn at
    random from its upper half, so that workers failing together do not retry together."""

    base: float
    cap: float

    def seconds(self, attempt: int, jitter: random.Random | None = None) -> float:
        """The wait after failed attempt number ``attempt`` (counted from 1)."""
        ceiling = min(self.cap, self.base * 2 ** min(attempt - 1, _MAX_DOUBLINGS))
        return (jitter or random).uniform(ceiling / 2, ceiling)


def backoffs(settings: Settings) -> dict[Work, Backoff]:
    """Each class of work's backoff, from ``SWITCHBOARD_RETRY_SECONDS``."""
    return {work: Backoff(*waits) for work, waits in settings.switchboard_retry_seconds.items()}


# The settings' defaults until a process applies its own (`configure`); built without
# reading the environment, which happens only where a process is wired up.
_backoffs = backoffs(Settings.model_construct())


def configure(settings: Settings) -> None:
    """Use ``settings``' backoffs in this process from now on."""
    global _backoffs  # noqa: PLW0603 - one configuration a process, like its logs
    _backoffs = backoffs(settings)


def backoff(work: Work) -> Backoff:
    """The backoff of a class of work, as configured for this process."""
    return _backoffs[work]


class RetryLater(Exception):  # noqa: N818 - a request to retry, not an error
    """Raised by an attempt that failed in a way worth another try, and expected (a provider
    that is down): logged as a warning at most, never reported to Sentry.

    ``reason`` is logged (so it must name no person); ``after_seconds``, a wait the other
    side asked for (an HTTP ``Retry-After``), replaces the backoff's."""

    def __init__(self, reason: str, after_seconds: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after_seconds = after_seconds


def always(exc: BaseException) -> bool:
    """Every failure is worth another try: for work that must not be dropped."""
    return True


def retrying(
    backoff: Backoff,
    what: str,
    *,
    transient: Callable[[BaseException], bool] = always,
    attempts: int | None = None,
    sleep: Sleep = asyncio.sleep,
    event: str = "retrying",
    level: Level = "warning",
    report: bool = False,
    jitter: random.Random | None = None,
    on_retry: Callable[[BaseException, int, float], None] | None = None,
    **context: str | int,
) -> AsyncRetrying:
    """A policy for ``await policy(operation)``: ``attempts`` tries at most (None: until
    cancelled), retrying what ``transient`` accepts; the last failure is raised as it was.

    ``what`` names the work in logs and Sentry; ``event`` is the log event of each pause,
    with ``context`` (ids only: no personal data) beside the failure's type and attempt.
    ``on_retry(failure, attempt, wait)``, for callers with log lines of their own, is called
    before each pause instead of that log line.

    A policy serves one operation at a time: tenacity keeps an operation's attempts on the
    policy object (per thread, not per task), so concurrent callers, such as a partition's
    lanes, each build their own."""

    def wait(state: RetryCallState) -> float:
        failure = _failure(state)
        if isinstance(failure, RetryLater) and failure.after_seconds is not None:
            return failure.after_seconds
        return backoff.seconds(state.attempt_number, jitter)

    def before_sleep(state: RetryCallState) -> None:
        failure = _failure(state)
        attempt = state.attempt_number
        expected = isinstance(failure, RetryLater)  # asked for, not an error to report
        if report and not expected and failure is not None and attempt in REPORTED_ATTEMPTS:
            capture(failure, agent=what, attempt=str(attempt))
        if on_retry is not None and failure is not None:
            on_retry(failure, attempt, state.upcoming_sleep)
            return
        # Not log.exception: a traceback carries the message, which may quote personal data.
        getattr(log, "warning" if expected and level == "error" else level)(
            event,
            what=what,
            error=type(failure).__name__,
            attempt=attempt,
            retry_in=round(state.upcoming_sleep, 2),
            **({"reason": failure.reason} if isinstance(failure, RetryLater) else {}),
            **context,
        )

    return AsyncRetrying(
        sleep=sleep,
        stop=stop_never if attempts is None else stop_after_attempt(attempts),
        wait=wait,
        retry=retry_if_exception(lambda exc: isinstance(exc, Exception) and transient(exc)),
        before_sleep=before_sleep,
        reraise=True,
    )


def until_done(what: str, work: Work = "record", sleep: Sleep = asyncio.sleep) -> AsyncRetrying:
    """The policy of work on one record whose offset must not be committed before it is done
    (``await until_done("store")(operation, *args)``): giving up would drop the record, so the
    partition waits instead, every failure retried, and lag, logs and Sentry show why.

    ``work``: the class of work whose backoff it waits (a delivery waits up to minutes, or
    a provider's Retry-After)."""
    return retrying(
        backoff(work), what, sleep=sleep, event="record_retry", level="error", report=True
    )


def _failure(state: RetryCallState) -> BaseException | None:
    outcome = state.outcome
    return None if outcome is None else outcome.exception()
