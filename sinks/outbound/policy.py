"""How one HTTP answer from a provider is judged, and how long the provider asks us to wait.

Pure: the sender passes in the status code (or that no answer came) and the ``Retry-After``
header, and gets back one of ``Delivered``, ``Retry`` or ``Refused``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal, overload

# No status code at all: the request timed out, or no connection could be made.
NoAnswer = Literal["timeout", "connection_error"]

# A provider asking for a very long pause should not stall a conversation for that long;
# after this many seconds the action is sent again all the same.
RETRY_AFTER_CAP_SECONDS = 60.0

# Request timeout, too early (TLS early data), too many requests: the same request can succeed.
_RETRYABLE_4XX = frozenset({408, 425, 429})
# Only these two define Retry-After as a hint for the next attempt (RFC 9110 §10.2.3).
_HONOURS_RETRY_AFTER = frozenset({429, 503})


@dataclass(frozen=True)
class Delivered:
    """The provider accepted the request (2xx)."""


@dataclass(frozen=True)
class Retry:
    """Worth trying again; ``after_seconds`` is the provider's hint, None when it gave none."""

    reason: str
    after_seconds: float | None = None


@dataclass(frozen=True)
class Refused:
    """The provider rejected the request itself; sending it again cannot help."""

    reason: str


Decision = Delivered | Retry | Refused


@overload
def classify(
    answer: NoAnswer, retry_after: str | None = None, *, now: datetime, cap: float = ...
) -> Retry: ...


@overload
def classify(
    answer: int, retry_after: str | None = None, *, now: datetime, cap: float = ...
) -> Decision: ...


def classify(
    answer: int | NoAnswer,
    retry_after: str | None = None,
    *,
    now: datetime,
    cap: float = RETRY_AFTER_CAP_SECONDS,
) -> Decision:
    """Judge one attempt: a status code, or ``"timeout"`` / ``"connection_error"``."""
    if isinstance(answer, str):
        return Retry(answer)
    reason = f"http_{answer}"
    if 200 <= answer <= 299:
        return Delivered()
    if answer in _RETRYABLE_4XX or 500 <= answer <= 599:
        hint = parse_retry_after(retry_after, now, cap) if answer in _HONOURS_RETRY_AFTER else None
        return Retry(reason, hint)
    # Other 4xx, and 1xx/3xx we never expect (redirects are not followed): refused.
    return Refused(reason)


def parse_retry_after(value: str | None, now: datetime, cap: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or an HTTP-date), capped.

    Anything unparseable is None: the caller falls back to its own backoff.
    """
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value), cap)
    try:
        when = parsedate_to_datetime(value)
    except (ValueError, TypeError, IndexError):
        return None
    if when.tzinfo is None:  # asctime dates and "-0000" carry no zone; HTTP dates are GMT
        when = when.replace(tzinfo=UTC)
    return min(max((when - now).total_seconds(), 0.0), cap)
