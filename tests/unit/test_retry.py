"""Which database failures are retried, and how long the worker waits."""

from __future__ import annotations

import random

import pytest

from streams.retry import backoff_seconds, is_transient_sqlstate


@pytest.mark.parametrize("sqlstate", ["08006", "40001", "40P01", "53300", "57P01", "57014"])
def test_server_and_connection_states_are_transient(sqlstate: str) -> None:
    """Connection loss, deadlocks, overload and shutdowns are worth retrying."""
    assert is_transient_sqlstate(sqlstate)


@pytest.mark.parametrize("sqlstate", ["22001", "23505", "42P01", None])
def test_data_errors_are_not_transient(sqlstate: str | None) -> None:
    """Bad data or a missing table will not fix itself."""
    assert not is_transient_sqlstate(sqlstate)


def test_backoff_grows_and_is_capped() -> None:
    """Waits double per attempt, jittered within [ceiling/2, ceiling], never past the cap."""
    rng = random.Random(1)  # noqa: S311 - jitter, not cryptography
    waits = [backoff_seconds(n, base=0.2, cap=5, jitter=rng) for n in range(1, 12)]
    assert 0.1 <= waits[0] <= 0.2
    assert all(w <= 5 for w in waits)
    assert waits[-1] >= 2.5
