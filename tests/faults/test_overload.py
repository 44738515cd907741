"""Overload: at 150-200% of the measured capacity, with abusive clients and bursts of 3 MB
bodies, only abusive clients get 429 and always with Retry-After, every request is answered
(no 5xx but 503 with Retry-After), bodies over the limit get 413, and the worker's lag
returns to 0 afterwards with every accepted message answered once.

How fast the 429s and accepted requests are answered and how far ingest's memory grows are
machine-dependent targets: the report shows them, the benchmark `bench.overload` judges them.

The run itself is `bench.harness.overload.drive.run_overload` (real `switchboard ingest`
and `switchboard worker` children on topics of their own), shared with `bench.overload`;
its figures are printed and written to `bench/results/overload-test-<time>.md`.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvloop

from bench.harness.overload.drive import Results, run_overload
from bench.harness.overload.judge import render
from bench.harness.overload.offer import Plan
from bench.harness.report import keep
from switchboard.settings import Settings
from switchboard.standins import StandInURLs

TEST = Plan(seconds=20.0)

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(420)]


def overload(settings: Settings, standins: StandInURLs, logs: Path) -> Results:
    """On a uvloop of its own, as the benchmark runs it: the load generator must keep its
    schedule, and the session's loop and the stand-ins' thread stay out of its way."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(run_overload(settings, standins, TEST, logs, "overload"))


async def test_overload(settings: Settings, standins: StandInURLs, tmp_path: Path) -> None:
    started = datetime.now(UTC)
    results = await asyncio.to_thread(overload, settings, standins, tmp_path)
    report, passed = render(results, started, [], judged=False)
    path = keep("overload-test", started, report)
    print(f"\n{report}\nwritten to {path}")
    assert passed, report
