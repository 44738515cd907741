"""The flow benchmark's verdicts (bench/flow/verdicts.py): its behaviour is judged by every
run, its machine-dependent targets by a full run only."""

from __future__ import annotations

from bench.flow.ceiling import ACK_EACH, CEILING
from bench.flow.end_to_end import EndToEnd
from bench.flow.throughput import WORKER, Throughput
from bench.flow.verdicts import verdicts


def runs(worker_rate: float, twice: int = 0) -> list[Throughput]:
    return [
        Throughput(WORKER, 200, 200 / worker_rate, twice=twice),
        Throughput(CEILING, 200, 0.05),
        Throughput(ACK_EACH, 200, 0.2),
    ]


def latency(latency_s: float, missing: int = 0, refused: int = 0) -> EndToEnd:
    run = EndToEnd(rate=20)
    for conversation in range(200):
        run.due[conversation] = conversation * 0.05
        if conversation >= missing:
            run.replied[conversation] = run.due[conversation] + latency_s
            run.replies[conversation] = 1
    if refused:
        run.errors["HTTP 503"] = refused
    return run


def test_a_quick_run_passes_on_its_behaviour_with_its_targets_outside() -> None:
    """A slow worker and a p99 over a second: outside the targets, shown but not judged."""
    found = verdicts(runs(worker_rate=100.0), latency(1.5))
    assert found.passed(judged=False)
    assert not found.passed(judged=True)
    lines = found.lines(judged=False)
    assert [line.split()[0] for line in lines] == ["PASS", "PASS", "outside", "outside"]


def test_a_full_run_passes_within_its_targets() -> None:
    found = verdicts(runs(worker_rate=3000.0), latency(0.2))
    assert found.passed(judged=True)
    assert all(line.startswith("PASS") for line in found.lines(judged=True))


def test_a_message_without_a_reply_fails_any_run_and_leaves_the_p99_alone() -> None:
    """The p99 of the replies that came is a target; a missing reply is behaviour."""
    found = verdicts(runs(worker_rate=3000.0), latency(0.2, missing=1))
    assert not found.passed(judged=False)
    assert [check.ok for check in found.behaviour] == [False, False]
    assert all(check.ok for check in found.targets)


def test_a_repeated_action_or_a_refused_webhook_fails_any_run() -> None:
    assert not verdicts(runs(3000.0, twice=1), latency(0.2)).passed(judged=False)
    assert not verdicts(runs(3000.0), latency(0.2, refused=1)).passed(judged=False)
