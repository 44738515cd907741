"""The PostgreSQL sink, measured side by side with `pgbench` inserts in one run.

Every target writes fresh Chatwoot `message.received` rows (`bench.sink.rows`) to a scratch
database (`bench_sink_<run>`, migrated, dropped at the end), one client connection each
(`bench.sink.targets`, `bench.sink.pgbench`):

* worker path: `ConversationStore.write` for one event at a time, one transaction each,
  as the worker's store agent calls it (record by record, with the contact identities):
  the conversation upsert, the message insert that counts it, the identities upsert.
* store, batched: the same call and statements for 500 events a transaction
  (`streams.storage.BATCH_SIZE`).
* executemany / COPY: the same rows (`sinks.postgres.rows.to_row`) in 500-row
  transactions, conversations first, by `executemany` of single-row INSERTs and by
  `copy_records_to_table`; no identities, no message counts: what the rows alone cost.
* pgbench: plain single-row INSERTs of a message row into a table like `messages` (same
  columns, keys and indexes, no foreign key), one client, for a fixed time.

Rounds alternate the order of the targets (`bench.sink.rounds`); each figure is the median
of the rounds. Verdicts (`bench.sink.report`): behaviour, always judged (every row the
targets wrote is in `messages`), and the target, judged by a full run only (`--quick`
shows it as within or outside): the best batched variant at least as fast as pgbench.

    .venv/bin/python -m bench.sink [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import asyncpg
import uvloop

from bench.harness.errors import BenchError
from bench.harness.machine import machine
from bench.harness.report import load_average, run_reported
from bench.harness.script import arguments, begin
from bench.sink.report import render
from bench.sink.rounds import Plan, Results, measure
from switchboard.cli import load_settings

FULL = Plan(single=3000, batched=20000, pgbench_seconds=15, rounds=3)
QUICK = Plan(single=300, batched=2000, pgbench_seconds=3, rounds=1)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = arguments("sink", __doc__, "one small round")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    started = begin()
    out = Results(machine()[:6])

    def measured() -> tuple[str, bool]:
        with (
            asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
            tempfile.TemporaryDirectory(prefix="bench-sink-") as tmp,
        ):
            runner.run(measure(load_settings(), plan, out, Path(tmp)))
        out.info.append(("load average at the end", load_average()))
        return render(out, plan, started, judged=not args.quick)

    errors = (BenchError, OSError, asyncpg.PostgresError)
    return run_reported("sink", started, measured, errors, "the scratch database was dropped")


if __name__ == "__main__":
    sys.exit(main())
