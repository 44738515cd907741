"""The one retry policy: backoff within its bounds, attempts, classifiers, cancellation."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard import retrying
from switchboard.retrying import Backoff, RetryLater, backoffs, configure
from switchboard.settings import RETRY_SECONDS, Settings


class Pauses:
    """A sleep that records its waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Failing:
    """An operation failing with each of ``failures`` in turn, then returning ``"done"``."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


@given(
    base=st.floats(min_value=0, max_value=100),
    cap=st.floats(min_value=0, max_value=1000),
    attempt=st.integers(min_value=1, max_value=10_000),
    seed=st.integers(),
)
def test_every_wait_is_in_the_upper_half_of_its_ceiling(
    base: float, cap: float, attempt: int, seed: int
) -> None:
    """The n-th wait lies in [c/2, c], c = min(cap, base·2^(n-1)), however many attempts."""
    ceiling = min(cap, base * 2 ** min(attempt - 1, 64))
    wait = Backoff(base, cap).seconds(attempt, random.Random(seed))  # noqa: S311 - jitter
    assert ceiling / 2 <= wait <= ceiling


def test_waits_double_until_the_cap() -> None:
    """Waits grow per attempt and stop growing at the cap."""
    rng = random.Random(1)  # noqa: S311 - jitter, not cryptography
    waits = [Backoff(0.2, 5).seconds(n, rng) for n in range(1, 12)]
    assert 0.1 <= waits[0] <= 0.2
    assert all(w <= 5 for w in waits)
    assert waits[-1] >= 2.5


async def test_a_bounded_policy_raises_the_last_failure_after_its_attempts() -> None:
    pauses = Pauses()
    operation = Failing(*(OSError(f"down {n}") for n in range(5)))
    policy = retrying.retrying(Backoff(1, 4), "test", attempts=3, sleep=pauses)
    with pytest.raises(OSError, match="down 2"):
        await policy(operation)
    assert operation.calls == 3
    assert len(pauses.waits) == 2


async def test_until_stopped_keeps_going_and_returns_the_result() -> None:
    pauses = Pauses()
    operation = Failing(*(RuntimeError() for _ in range(50)))
    policy = retrying.retrying(Backoff(1, 4), "test", sleep=pauses)
    assert await policy(operation) == "done"
    assert operation.calls == 51
    assert all(2 <= w <= 4 for w in pauses.waits[5:])


async def test_a_permanent_failure_is_raised_at_once() -> None:
    pauses = Pauses()
    operation = Failing(ValueError("bad data"))
    policy = retrying.retrying(
        Backoff(1, 4), "test", transient=lambda exc: isinstance(exc, OSError), sleep=pauses
    )
    with pytest.raises(ValueError, match="bad data"):
        await policy(operation)
    assert operation.calls == 1
    assert pauses.waits == []


async def test_cancellation_is_not_retried() -> None:
    pauses = Pauses()
    operation = Failing(asyncio.CancelledError())
    policy = retrying.retrying(Backoff(1, 4), "test", sleep=pauses)
    with pytest.raises(asyncio.CancelledError):
        await policy(operation)
    assert operation.calls == 1
    assert pauses.waits == []


async def test_a_wait_asked_for_replaces_the_backoff() -> None:
    """A RetryLater carrying the other side's wait (Retry-After) is waited out as asked."""
    pauses = Pauses()
    operation = Failing(RetryLater("http_429", after_seconds=7.0), RetryLater("http_503"))
    policy = retrying.retrying(Backoff(1, 1), "test", sleep=pauses)
    assert await policy(operation) == "done"
    assert pauses.waits[0] == 7.0
    assert 0.5 <= pauses.waits[1] <= 1


async def test_only_the_first_failure_and_reminders_are_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reported: list[str] = []
    monkeypatch.setattr(retrying, "capture", lambda exc, **tags: reported.append(tags["attempt"]))
    operation = Failing(*(RuntimeError() for _ in range(12)))
    policy = retrying.retrying(Backoff(0, 0), "store", sleep=Pauses(), report=True)
    await policy(operation)
    assert reported == ["1", "10"]


async def test_a_quiet_policy_reports_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    reported: list[str] = []
    monkeypatch.setattr(retrying, "capture", lambda exc, **tags: reported.append(tags["attempt"]))
    await retrying.retrying(Backoff(0, 0), "test", sleep=Pauses())(Failing(RuntimeError()))
    assert reported == []


def test_each_class_of_work_is_tuned_by_its_settings() -> None:
    settings = Settings(switchboard_retry_seconds={"delivery": (3.0, 9.0)})
    assert backoffs(settings)["delivery"] == Backoff(3.0, 9.0)
    assert backoffs(settings)["record"] == Backoff(*RETRY_SECONDS["record"])  # kept
    before = retrying.backoff("delivery")
    configure(settings)
    try:
        assert retrying.backoff("delivery") == Backoff(3.0, 9.0)
    finally:
        configure(Settings.model_construct())
    assert retrying.backoff("delivery") == before


def test_the_setting_is_read_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_RETRY_SECONDS", '{"delivery": [1, 4]}')
    assert backoffs(Settings())["delivery"] == Backoff(1.0, 4.0)


def test_negative_waits_are_refused() -> None:
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        Settings(switchboard_retry_seconds={"record": (-1.0, 5.0)})


def test_unknown_classes_are_refused() -> None:
    with pytest.raises(ValueError, match="record"):
        Settings(switchboard_retry_seconds={"everything": (1.0, 5.0)})
