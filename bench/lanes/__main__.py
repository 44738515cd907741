"""Conversations in flight: the worker with a slow model and with a destination down, side
by side with the same worker holding one record per partition, in one run.

The baseline is the design before keyed lanes: ``SWITCHBOARD_PARTITION_WINDOW=1`` makes each
partition hold one record at a time, which is exactly what the worker did then. Each variant
runs the real `switchboard worker` in a subprocess, on its own topics and consumer group
(`bench.lanes.variants`), against stand-ins in a process of their own (`switchboard
standins`), so serving hundreds of slow model calls does not take this process's time from
the measurement; customers' messages are produced straight to the inbound topic, all at
once, each in a conversation of its own (`bench.lanes.scenarios`):

* slow model: the chat-model stand-in answers every call after 1.0 s; N customers (60, then
  300) write at once; the time from the first record produced until every one has its reply
  at the Chatwoot stand-in. Effective concurrency = N * 1.0 s / that time.
* two workers: the slow-model runs again with two worker processes sharing the group (the
  partitions split between them), to show the load shared on one machine.
* destination down: the Graph API stand-in answers 503 to every send; 30 WhatsApp and 30
  Chatwoot customers write at once; the time until every Chatwoot customer has a reply; then
  the Graph API recovers, and the time until every WhatsApp customer has one.

Verdicts (`bench.lanes.report`) on the keyed-lanes worker: its behaviour, always judged
(every customer answered, in every scenario), and its targets, judged by a full run only
(`--quick` shows them as within or outside): effective concurrency at least 20 at N = 60 and
40 at N = 300, every Chatwoot customer answered within 10 s while the Graph API is down.

    .venv/bin/python -m bench.lanes [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import uvloop

from bench.harness.errors import BenchError
from bench.harness.report import load_average, run_reported
from bench.harness.script import arguments, begin
from bench.lanes.report import render
from bench.lanes.variants import Plan, measure
from switchboard.cli import load_settings

FULL = Plan(sizes=(60, 300), per_channel=30)
QUICK = Plan(sizes=(60,), per_channel=30)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = arguments("lanes", __doc__, "N=60 only")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    started, load = begin(), load_average()

    def run() -> tuple[str, bool]:
        with (
            asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
            tempfile.TemporaryDirectory(prefix="bench-lanes-") as tmp,
        ):
            rows = runner.run(measure(load_settings(), plan, Path(tmp)))
        return render(rows, started, load, judged=not args.quick)

    return run_reported("lanes", started, run, (BenchError,), "the workers were stopped")


if __name__ == "__main__":
    sys.exit(main())
