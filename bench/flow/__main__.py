"""The conversation worker, measured side by side with its ceiling in one run.

* worker: the real `switchboard worker` in a subprocess with the offline responder (no
  model), on a fresh topic prefix and consumer group. N pre-encoded Chatwoot
  `message.received` events (questions the knowledge base answers, over 200
  conversations) go straight to the inbound topic; the rate is N over the time from the
  first one produced to the N-th action on the actions topic.
* ceiling: a plain aiokafka loop in this process over the same inbound records, with its
  own consumer group: consume, decode, build the same reply action with a fixed outcome,
  encode, produce (acks=all), commit. Once with the batch's acks awaited together, once
  with each ack awaited before the next record, as the worker does; each the median of
  three runs.
* end to end: the real `switchboard ingest` in a subprocess; signed Chatwoot
  `message_created` webhooks at a steady rate, each in its own conversation, timed from
  the moment each POST is due to the reply reaching the Chatwoot stand-in.

Its behaviour is judged by every run: every webhook replied to, every message answered
exactly once, none refused. Its targets depend on the machine and are judged by a full run:
the worker at least half the ceiling's rate, end-to-end p99 under 1 s; `--quick`, a smoke
check, shows them as within or outside (`bench.harness.verdicts`).

The stand-ins run in this process (`run_standins`); the worker and ingest are its children
and are stopped on exit, failure or interrupt. The run's topics are deleted at the end.
`--profile` samples the worker with py-spy during its phase.

    .venv/bin/python -m bench.flow [--quick] [--profile]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bench.flow.report import render
from bench.flow.rig import Plan
from bench.flow.run import run_bench
from bench.harness.errors import BenchError
from bench.harness.kafka import Names
from bench.harness.machine import load_generator_row, machine, worker_row
from bench.harness.report import RESULTS, run_reported
from bench.harness.script import arguments, begin
from switchboard.cli import load_settings

FULL = Plan(messages=2000, rate=20, seconds=20.0)
QUICK = Plan(messages=200, rate=20, seconds=10.0)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = arguments("flow", __doc__, "200 messages and 10 s end to end")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the worker with py-spy during its phase (perturbs it a little)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    started = begin()
    info = [*machine(), worker_row(), load_generator_row()]
    profile = RESULTS / f"flow-{started:%Y%m%dT%H%M%SZ}-worker.txt" if args.profile else None
    if profile is not None:
        RESULTS.mkdir(parents=True, exist_ok=True)

    def measure() -> tuple[str, bool]:
        results = run_bench(plan, load_settings(), Names(), profile)
        results.info[:0] = info
        return render(results, plan, started, judged=not args.quick)

    stopped = "the worker and ingest were stopped"
    return run_reported("flow", started, measure, (BenchError,), stopped)


if __name__ == "__main__":
    sys.exit(main())
