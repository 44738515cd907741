"""Erasure: time from the request to every target complete, beside the floor it cannot beat.

* set-up (not timed): a database and topic prefix of this run's own; the Chatwoot stand-in
  in this process (with an admin token) and `switchboard worker` as a child. The inbound
  topic is filled with ~100k sealed Chatwoot `message.received` events over many contacts
  (keys made by the real key ring, so data-keys.v1 holds one per contact), and their rows
  are written by the worker's own storage sink (`ConversationStore.write`) from here, in
  batches: the worker answers ~50 messages a second and would need half an hour. The
  worker's group starts at the topic's end. The contacts to be erased then each send one
  more message that the worker handles for real (state, reply, delivery), and exist in the
  Chatwoot stand-in, so the `chatwoot` target does real HTTP.
* one contact: a `gdpr_deletions` row then `erasure.requested` (acks=all), as the
  compliance API does; timed until the row reads `completed`. Several contacts, one after
  another.
* 1,000 at once: the same for every contact in one burst; timed until all are completed.
* check: nothing left of the erased contacts (rows, data keys, Chatwoot details), each with
  its proof on erasures.v1; the contacts not erased keep their rows and data keys.
* floor: the `postgres` target's statements alone for one contact, and one tombstone
  produced with acks=all.
* physical removal: on a scratch compacted topic with short settings, a value is written and
  tombstoned; the broker's segment files are read until its bytes are gone.

Behaviour (every erasure complete with its proof, every copy gone, nothing else touched,
the bytes off the disk) is judged by every run; the targets (one contact under 10 s, the
bytes gone within the scratch topic's bound) by a full run only: `--quick` shows them as
within or outside (`bench.erasure.judge`, `bench.harness.verdicts`).

    .venv/bin/python -m bench.erasure [--quick]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.erasure.phases import Results
from bench.erasure.report import render
from bench.erasure.rig import Names, Plan
from bench.erasure.run import run_bench
from bench.harness.errors import BenchError
from bench.harness.kafka import broker_data_dir
from bench.harness.machine import load_generator_row, machine, worker_row
from bench.harness.report import load_average, run_reported
from bench.harness.script import arguments, begin
from switchboard.cli import load_settings
from switchboard.logs import configure

FULL = Plan(contacts=2000, events_per_contact=50, single=5, burst=1000, removal_seconds=150.0)
QUICK = Plan(contacts=500, events_per_contact=10, single=3, burst=100, removal_seconds=150.0)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = arguments("erasure", __doc__, "5,000 events, 3 single erasures, 100 at once")
    parser.add_argument(
        "--kafka-data",
        type=Path,
        default=None,
        help="the broker's log.dirs (default: read from the running broker's server.properties)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    started = begin()
    configure("WARNING", json_output=False, stream=sys.stderr)  # no line per key made
    out = Results([*machine(), worker_row(), load_generator_row()])

    def measure() -> tuple[str, bool]:
        run_bench(plan, load_settings(), Names(), out, broker_data_dir(args.kafka_data))
        out.info.append(("load average at the end", load_average()))
        return render(out, plan, started, judged=not args.quick)

    return run_reported("erasure", started, measure, (BenchError,), "the worker was stopped")


if __name__ == "__main__":
    sys.exit(main())
