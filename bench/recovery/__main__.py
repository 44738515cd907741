"""Recovery time after a worker is killed with SIGKILL under a steady stream of messages.

* restart: one `switchboard worker` (offline responder) answers a steady stream of
  Chatwoot `message.received` events produced straight to the inbound topic
  (`bench.recovery.stream`); it is killed with SIGKILL mid-flow and started again at once.
  Timed from the kill (`bench.recovery.kills`): the first action written after it, every
  inbound partition answered again, and the backlog (everything sent before every
  partition was answered again) answered. Repeated a few times.
* takeover: two workers in the group; one is killed and not restarted, so the survivor
  must take over its partitions. Timed the same way.
* check: after the stream stops, every message sent has exactly one action
  (`bench.recovery.exactly_once`).

Times come from the record timestamps the producers set (wall clock, one machine): when
this script produced each message, and when the worker produced each action. The Chatwoot
stand-in runs in this script, the workers are its children; the run's database
(`bench_recovery_<run>`) and topics (`bench-recovery-<run>.*`) are removed at the end
(`bench.recovery.run`). Verdicts (`bench.recovery.report`): behaviour, always judged (every
message answered exactly once), and the target, judged by a full run only (`--quick` shows
it as within or outside): every partition answered again within 15 s of every kill.

    .venv/bin/python -m bench.recovery [--quick]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bench.harness.errors import BenchError
from bench.harness.kafka import Names
from bench.harness.machine import machine, worker_row
from bench.harness.report import load_average, run_reported
from bench.harness.script import arguments, begin
from bench.recovery.report import render
from bench.recovery.rig import Plan
from bench.recovery.run import run_bench
from switchboard.cli import load_settings
from switchboard.logs import configure

FULL = Plan(rate=20, restarts=3, takeovers=2, steady=8.0)
QUICK = Plan(rate=20, restarts=1, takeovers=1, steady=5.0)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = arguments("recovery", __doc__, "one restart and one takeover")
    parser.add_argument(
        "--logs", type=Path, default=None, help="keep the workers' logs (INFO) in this folder"
    )
    parser.add_argument("--restarts", type=int, default=None, help="kill and restart N times")
    parser.add_argument("--takeovers", type=int, default=None, help="kill one of two N times")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    configure("WARNING", json_output=False, stream=sys.stderr)  # no line per key made
    plan = QUICK if args.quick else FULL
    if args.restarts is not None:
        plan = replace(plan, restarts=args.restarts)
    if args.takeovers is not None:
        plan = replace(plan, takeovers=args.takeovers)
    started = begin()
    info = [*machine(), worker_row()]

    def measure() -> tuple[str, bool]:
        rig, counts = run_bench(plan, load_settings(), Names(label="bench-recovery"), args.logs)
        info.append(("load average at the end", load_average()))
        return render(rig, counts, info, started, judged=not args.quick)

    return run_reported("recovery", started, measure, (BenchError,), "the workers were stopped")


if __name__ == "__main__":
    sys.exit(main())
