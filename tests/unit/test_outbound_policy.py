"""How each provider answer is judged, and how long the sender waits before trying again."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from sinks.outbound.policy import (
    RETRY_AFTER_CAP_SECONDS,
    Delivered,
    Refused,
    Retry,
    classify,
    parse_retry_after,
)
from switchboard.retrying import RetryLater, backoff, retrying

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_2xx_is_delivered(status: int) -> None:
    """Any 2xx means the provider accepted the request."""
    assert classify(status, now=NOW) == Delivered()


@pytest.mark.parametrize("status", [500, 501, 502, 503, 504, 599])
def test_5xx_is_retried(status: int) -> None:
    """Server errors are worth another attempt, with our own backoff when no hint is given."""
    assert classify(status, now=NOW) == Retry(f"http_{status}", None)


@pytest.mark.parametrize("status", [408, 425, 429])
def test_retryable_4xx_is_retried(status: int) -> None:
    """Request timeout, too early and too many requests can succeed when sent again."""
    assert classify(status, now=NOW) == Retry(f"http_{status}", None)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 410, 413, 422, 451])
def test_other_4xx_is_refused(status: int) -> None:
    """Any other client error is refused, with a reason that names only the status code."""
    assert classify(status, "30", now=NOW) == Refused(f"http_{status}")


@pytest.mark.parametrize("status", [101, 301, 302, 304, 307])
def test_unexpected_statuses_are_refused(status: int) -> None:
    """Informational and redirect answers (redirects are not followed) are refused."""
    assert classify(status, now=NOW) == Refused(f"http_{status}")


@pytest.mark.parametrize("answer", ["timeout", "connection_error"])
def test_no_answer_is_retried(answer: str) -> None:
    """A timeout or a failed connection is retried, with its kind as the reason."""
    assert classify(answer, now=NOW) == Retry(answer, None)  # type: ignore[call-overload]


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_is_respected_on_429_and_503(status: int) -> None:
    """429 and 503 carry the provider's Retry-After in seconds."""
    assert classify(status, "7", now=NOW) == Retry(f"http_{status}", 7.0)


@pytest.mark.parametrize("status", [500, 502, 504, 408])
def test_retry_after_is_ignored_on_other_statuses(status: int) -> None:
    """Only 429 and 503 define Retry-After as a hint for the next attempt."""
    assert classify(status, "7", now=NOW) == Retry(f"http_{status}", None)


def test_retry_after_http_date_is_the_time_until_then() -> None:
    """An IMF-fixdate Retry-After becomes the seconds from now until that date."""
    when = format_datetime(NOW + timedelta(seconds=12), usegmt=True)
    assert parse_retry_after(when, NOW, cap=60) == 12.0


@pytest.mark.parametrize("value", ["Wednesday, 25-Nov-26 12:00:05 GMT", "Wed Nov 25 12:00:05 2026"])
def test_retry_after_obsolete_date_formats_are_read_as_gmt(value: str) -> None:
    """RFC 850 and asctime dates, which HTTP still allows, are read as GMT."""
    assert parse_retry_after(value, NOW, cap=60) == 5.0


def test_retry_after_in_the_past_means_now() -> None:
    """A date already passed asks for no wait at all."""
    when = format_datetime(NOW - timedelta(hours=1), usegmt=True)
    assert parse_retry_after(when, NOW, cap=60) == 0.0


@pytest.mark.parametrize(
    "value", ["", "  ", "soon", "-5", "1.5", "5s", "\u0661\u0662", "Fri, 99 Foo 2026 25:61:00 GMT"]
)
def test_garbage_retry_after_is_no_hint(value: str) -> None:
    """An unreadable Retry-After is ignored: the sender falls back to its own backoff."""
    assert parse_retry_after(value, NOW, cap=60) is None
    assert classify(429, value, now=NOW) == Retry("http_429", None)


def test_retry_after_is_capped() -> None:
    """A provider asking for an hour waits only as long as the cap, in seconds and as a date."""
    later = format_datetime(NOW + timedelta(hours=1), usegmt=True)
    assert classify(429, "3600", now=NOW) == Retry("http_429", RETRY_AFTER_CAP_SECONDS)
    assert classify(503, later, now=NOW) == Retry("http_503", RETRY_AFTER_CAP_SECONDS)
    assert parse_retry_after("3600", NOW, cap=5) == 5.0


async def test_wait_uses_the_providers_hint() -> None:
    """With a Retry-After hint, the wait is exactly that hint, whatever the attempt."""
    waits: list[float] = []

    async def pause(seconds: float) -> None:
        waits.append(seconds)

    hints = [Retry("http_500"), Retry("http_500"), Retry("http_500"), Retry("http_429", 3.0)]
    hints += [Retry("http_503", 0.0)]

    async def attempt() -> None:
        if hints:
            decision = hints.pop(0)
            raise RetryLater(decision.reason, decision.after_seconds)

    await retrying(backoff("delivery"), "test", sleep=pause)(attempt)
    assert waits[3:] == [3.0, 0.0]


def test_wait_without_hint_backs_off_exponentially_and_is_capped() -> None:
    """Without a hint, waits grow from half a second and never pass the backoff cap."""
    rng = random.Random(7)  # noqa: S311 - jitter, not cryptography
    provider = backoff("delivery")
    waits = [provider.seconds(n, rng) for n in range(1, 12)]
    assert 0.25 <= waits[0] <= 0.5
    assert 0.5 <= waits[1] <= 1.0
    assert all(w <= provider.cap for w in waits)
    assert waits[-1] >= provider.cap / 2
