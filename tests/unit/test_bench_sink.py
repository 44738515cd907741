"""bench.sink's verdicts: every row written kept in the table decides a quick run; batching
at least as fast as pgbench's one-row commits decides a full run too."""

from __future__ import annotations

from bench.sink.pgbench import PGBENCH_TARGET
from bench.sink.report import verdicts
from bench.sink.rounds import Results
from bench.sink.targets import COPY, WORKER, Run


def sink_results(stored: int) -> Results:
    runs = [Run(WORKER, 300, 0.6, 0.8), Run(COPY, 2000, 0.03, 1.3), Run(PGBENCH_TARGET, 100, 1, 1)]
    return Results([], runs, stored=stored)


def test_sink_judges_rows_kept_always_and_the_speed_of_batching_in_full_runs() -> None:
    slow = verdicts(sink_results(stored=2300), best=50.0, ceiling=100.0)
    assert slow.passed(judged=False)
    assert not slow.passed(judged=True)
    assert slow.lines(judged=False)[0] == (
        "PASS every row written is in the table: 2300 of 2300 in `messages`"
    )
    lost = verdicts(sink_results(stored=2299), best=500.0, ceiling=100.0)
    assert not lost.passed(judged=False)
