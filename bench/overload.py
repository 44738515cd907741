"""Overload: the pipeline at 150-200% of its measured capacity, with abusive clients and
bursts of 3 MB bodies, judged by what providers and operators need.

In one run (`bench.harness.overload.drive`): `switchboard ingest` and `switchboard worker` as
children on topics and a consumer group of their own; the capacity measured first (a burst
of messages, the time to the last reply); then an open-loop load for a fixed time: well-
behaved clients under the per-client limit, abusive clients far over it, a provider's
bursts of bodies at, just over and far over the 3 MB limit, and once a flood of 3 MB
bodies with bad signatures; then the drain. Its behaviour (`behaviour` in
`bench.harness.overload.judge`), asserted by `tests/faults/test_overload.py` as well:

* at least 1.5 x the capacity accepted;
* 429s to abusive clients only, each with Retry-After;
* no 5xx but 503 with Retry-After; every request answered; 413 for every body over 3 MB;
* the worker group's lag back to 0 after the load, within the drain bound, and every
  accepted message answered exactly once, refused ones never.

Its targets (`targets` there), which depend on the machine and are judged by a full run here
only (`--quick` shows them as within or outside, see `bench.harness.verdicts`):

* 429s fast (p99 under `LIMITED_P99_MS`, and under `LIMITED_CALM_P99_MS` outside the flood);
* accepted requests p99 under 5 s (the shortest provider timeout);
* ingest's peak resident memory at most `RSS_GROWTH_BOUND_MB` over its memory before.

Then the slowloris phase (`bench.harness.overload.slow`, not in the test): ordinary signed webhooks
alone, then while 10+ slow large bodies are held open: p99 under 100 ms and none refused;
every slow body answered 408, 429 or 503 with its connection closed, no other 5xx.

    .venv/bin/python -m bench.overload [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import uvloop

from bench.harness.machine import load_generator_row, machine, worker_row
from bench.harness.overload.drive import OverloadError, run_overload
from bench.harness.overload.judge import render
from bench.harness.overload.offer import Plan
from bench.harness.overload.slow import SlowPlan
from bench.harness.report import run_reported
from bench.harness.script import arguments, begin
from switchboard.cli import load_settings
from switchboard.standins import Tokens, run_standins

FULL = Plan(seconds=30.0)
QUICK = Plan(seconds=15.0, calibration=100)
SLOW_FULL = SlowPlan(seconds=10.0)
SLOW_QUICK = SlowPlan(seconds=5.0)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = arguments("overload", __doc__, "15 s of load")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    plan, slow = (QUICK, SLOW_QUICK) if args.quick else (FULL, SLOW_FULL)
    started = begin()
    info = [*machine(), worker_row(), load_generator_row()]
    settings = load_settings()

    def measure() -> tuple[str, bool]:
        with (
            tempfile.TemporaryDirectory(prefix="bench-overload-") as logs,
            run_standins(tokens=Tokens.from_settings(settings)) as urls,
            asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
        ):
            results = runner.run(
                run_overload(settings, urls, plan, Path(logs), "bench-overload", slow=slow)
            )
        return render(results, started, info, judged=not args.quick)

    stopped = "the worker and ingest were stopped"
    return run_reported("overload", started, measure, (OverloadError,), stopped)


if __name__ == "__main__":
    sys.exit(main())
