"""Counted refusals: a bounded tally per window, written a window at a time, and what is left
written when the app shuts down."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from ingest.compliance.recorder import RecorderLifespan, RefusalRecorder
from ingest.compliance.refusals import RefusalCount, RefusalTally, window_start

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC).timestamp()


class MemoryRefusalLog:
    """Keeps what is written; fails while `failing` is set, as an absent database does."""

    def __init__(self) -> None:
        self.written: list[RefusalCount] = []
        self.failing = False

    async def write(self, counts: Sequence[RefusalCount]) -> None:
        if self.failing:
            raise ConnectionRefusedError
        self.written.extend(counts)


def _attempts(counts: Sequence[RefusalCount]) -> dict[tuple[str, str, str], int]:
    totals: dict[tuple[str, str, str], int] = {}
    for c in counts:
        key = (c.endpoint, c.reason, c.key_id)
        totals[key] = totals.get(key, 0) + c.attempts
    return totals


def test_attempts_of_one_kind_in_one_window_are_one_count() -> None:
    """200 forged links in a minute are one row saying 200, not 200 rows."""
    tally = RefusalTally()
    for n in range(200):
        tally.add("export_download", "bad_link", "", T0 + n * 0.25)
    (count,) = tally.take()
    assert count == RefusalCount(
        datetime.fromtimestamp(T0, UTC), "export_download", "bad_link", "", 200
    )
    assert tally.take() == []


def test_windows_reasons_endpoints_and_keys_are_counted_apart() -> None:
    """A new minute, another reason, endpoint or named key starts its own count."""
    tally = RefusalTally()
    tally.add("deletion_status", "wrong_secret", "key_a", T0)
    tally.add("deletion_status", "wrong_secret", "key_a", T0 + 59)
    tally.add("deletion_status", "wrong_secret", "key_a", T0 + 60)
    tally.add("deletion_status", "wrong_secret", "key_b", T0)
    tally.add("deletion_status", "unknown_key", "", T0)
    tally.add("consent", "unknown_key", "", T0)
    counts = tally.take()
    key_a = [(c.window_start.timestamp() - T0, c.attempts) for c in counts if c.key_id == "key_a"]
    assert key_a == [(0.0, 2), (60.0, 1)]
    assert len(counts) == 5
    assert [c.window_start for c in counts] == sorted(c.window_start for c in counts)


@given(st.floats(min_value=0, max_value=4e9, allow_nan=False), st.integers(1, 3600))
def test_a_window_starts_on_a_multiple_of_its_length(now: float, seconds: int) -> None:
    """Every process counts into the same windows: starts are aligned to the epoch."""
    start = window_start(now, seconds).timestamp()
    assert start <= now < start + seconds
    assert start % seconds == 0


def test_memory_is_bounded_and_what_did_not_fit_is_counted() -> None:
    """Past the limit of distinct counts, new ones are dropped, and the drops counted."""
    tally = RefusalTally(max_entries=3)
    for n in range(10):
        tally.add("consent", "unknown_key", "", T0 + 60 * n)
    tally.add("consent", "unknown_key", "", T0)  # an existing count still grows
    assert len(tally) == 3
    assert tally.dropped == 7
    assert sum(c.attempts for c in tally.take()) == 4


async def test_counts_a_failed_write_did_not_store_are_written_next_time() -> None:
    """The database away: nothing is lost, the next write carries the counts."""
    log = MemoryRefusalLog()
    recorder = RefusalRecorder(log, clock=lambda: T0)
    recorder.count("export_download", "bad_link")
    log.failing = True
    await recorder.flush()
    assert log.written == []
    recorder.count("export_download", "bad_link")
    log.failing = False
    await recorder.flush()
    assert _attempts(log.written) == {("export_download", "bad_link", ""): 2}


def test_the_app_writes_what_is_left_when_it_shuts_down() -> None:
    """Counts made while the app served are written by the time its lifespan ends."""
    log = MemoryRefusalLog()
    recorder = RefusalRecorder(log)
    app = FastAPI()

    @app.get("/refuse")
    async def refuse() -> dict[str, str]:
        recorder.count("consent", "missing_key")
        return {}

    app.add_middleware(RecorderLifespan, recorder=recorder)
    with TestClient(app) as client:
        for _ in range(3):
            client.get("/refuse")
        assert log.written == []  # the window has not ended: nothing written yet
    assert _attempts(log.written) == {("consent", "missing_key", ""): 3}
