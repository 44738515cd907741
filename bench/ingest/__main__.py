"""Signed WhatsApp webhook ingest, measured side by side with its ceilings in one run.

* bare: a FastAPI endpoint that only reads the body and answers 200, served by uvicorn in
  a subprocess with the options `switchboard ingest` uses: the ceiling of the web stack.
* ingest: the real `switchboard ingest` in a subprocess; every request is a distinct
  signed text message, answered 200 once Kafka acknowledged its event (acks=all).
* raw producer: an aiokafka producer configured as ingest's (acks=all, idempotent,
  linger 1 ms) sending the same encoded events from this process: the broker's share.
* seed: the design ingest replaced (bench/harness/seed.py): FastAPI, the same HMAC check and a
  Celery `.delay()` to a private Redis, one process: the yardstick for saturation.
* ingest x2: `switchboard ingest --workers 2`, for how ingest scales with processes.

Bare and ingest are driven closed-loop at several concurrency levels (maximum throughput),
then open-loop at a fixed rate with latency counted from each request's scheduled time, so a
stalled server cannot hide its queue (no coordinated omission). This process is the load
generator for those; it takes about a core itself. Then saturation: wrk (1 thread, a small
share of a core) sends one signed WhatsApp message over and over to each of the four, at 8
and 32 connections, as the reports against the seed design measured it. The servers are
children of this process and are stopped on exit, failure or interrupt. Needs `wrk` and
`redis-server` on PATH (Debian packages of those names).

Behaviour (every ingest request answered) is judged in every run; the targets (p99s,
throughput against bare and the seed design, scaling with processes) depend on the machine
and are judged by a full run: `--quick` shows them as within or outside.

    .venv/bin/python -m bench.ingest [--quick] [--saturation-only] [--prefix bench.]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import replace

from bench.harness.errors import BenchError
from bench.harness.report import run_reported
from bench.harness.script import arguments, begin
from bench.harness.seed import serve_seed
from bench.harness.wrk import WrkError
from bench.ingest.messages import SECRET
from bench.ingest.plan import Plan
from bench.ingest.report import description, render
from bench.ingest.run import run_bench
from bench.ingest.servers import serve_bare
from switchboard.cli import load_settings

FULL = Plan(warmup=1.0, closed_seconds=8.0, open_seconds=10.0, saturation_seconds=10.0)
QUICK = Plan(warmup=0.3, closed_seconds=1.5, open_seconds=3.0, saturation_seconds=2.0)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = arguments("ingest", __doc__, "a short run (~30 s)")
    parser.add_argument("--prefix", default="bench.", help="topic prefix; its topics are applied")
    parser.add_argument(
        "--saturation-only", action="store_true", help="only the wrk phases (~2 minutes)"
    )
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--serve-seed", type=int, metavar="PORT", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_bare:  # the servers under test that this script serves itself
        serve_bare(args.serve_bare)
        return 0
    if args.serve_seed:
        serve_seed(args.serve_seed, SECRET, os.environ["BENCH_REDIS_URL"])
        return 0
    plan = QUICK if args.quick else FULL
    if args.saturation_only:
        plan = replace(plan, concurrency=())
    started = begin()
    info = description()

    def measure() -> tuple[str, bool]:
        measured = run_bench(plan, load_settings(), args.prefix)
        return render(measured, plan, info, started, judged=not args.quick)

    return run_reported(
        "ingest", started, measure, (BenchError, WrkError), "the servers were stopped"
    )


if __name__ == "__main__":
    sys.exit(main())
