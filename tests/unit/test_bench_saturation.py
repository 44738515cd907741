"""The ingest benchmark's saturation phase (bench/harness/wrk.py, bench/ingest/): what wrk sends,
how its result is read, and the verdicts against the seed design."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bench.harness.wrk import MARK, Saturation, WrkError, parse, whole_seconds
from bench.ingest.judge import saturation_behaviour, saturation_targets, verdicts
from bench.ingest.messages import SECRET, saturation_body
from bench.ingest.plan import SATURATION_CONNECTIONS, Plan
from bench.ingest.saturation import Saturated
from bench.ingest.servers import INGEST_WORKERS
from ingest.signatures import whatsapp as whatsapp_signature

PLAN = Plan(warmup=0.3, closed_seconds=1.5, open_seconds=3.0, saturation_seconds=2.0)


def result(target: str, requests: int, p99_ms: float, failed: int = 0) -> Saturated:
    found = Saturation(
        target, SATURATION_CONNECTIONS, requests, 10.0, failed, 5.0, 9.0, p99_ms, 90.0
    )
    return Saturated(found, {"server": 1.0, "broker": 0.5, "client": 0.2, "other": 0.0})


def judged(runs: Sequence[Saturated]) -> tuple[list[bool], list[bool]]:
    """Which behaviour checks (every ingest request answered 2xx) and which targets (p99 and
    throughput against the seed, scaling with processes) held."""
    behaviour = [check.ok for check in saturation_behaviour(runs)]
    return behaviour, [check.ok for check in saturation_targets(runs)]


def test_the_body_is_the_reported_590_bytes_and_correctly_signed() -> None:
    """The body the reports measured with: 590 bytes, with a signature ingest accepts."""
    body, headers = saturation_body()
    assert len(body) == 590
    whatsapp_signature.verify((SECRET.encode(),), {k.lower(): v for k, v in headers.items()}, body)


def test_wrks_result_line_is_read_in_milliseconds() -> None:
    """The script's JSON line (microseconds) among wrk's own output becomes a Saturation."""
    line = (
        f'{MARK}{{"requests": 20000, "duration_us": 10000000, "failed": 3, "p50": 15000, '
        '"p90": 20000, "p99": 41000, "max": 88000}'
    )
    found = parse("seed", 32, f"Running 10s test @ http://x\n{line}\n")
    assert (found.rate, found.failed, found.p99_ms, found.max_ms) == (2000.0, 3, 41.0, 88.0)


def test_no_result_line_is_an_error_that_shows_wrks_output() -> None:
    """wrk failing (a refused connection, a Lua error) stops the run with its output."""
    with pytest.raises(WrkError, match="unable to connect"):
        parse("seed", 32, "unable to connect to 127.0.0.1:1 Connection refused\n")


def test_the_verdicts_hold_ingest_to_the_seed_design_and_to_scaling() -> None:
    """Pass: p99 at most the seed's, twice its throughput, two processes above one."""
    runs = [
        result("seed", 12_000, 45.0),
        result("ingest", 30_000, 40.0),
        result(f"ingest x{INGEST_WORKERS}", 40_000, 30.0),
    ]
    assert judged(runs) == ([True], [True, True, True])


def test_a_long_tail_or_too_little_throughput_fails() -> None:
    """The reported state fails: p99 10x the seed's, 1.3x its throughput, one failure."""
    runs = [
        result("seed", 12_300, 45.0),
        result("ingest", 16_100, 450.0, failed=1),
        result(f"ingest x{INGEST_WORKERS}", 16_000, 400.0),
    ]
    assert judged(runs) == ([False], [False, False, False])


def test_wrk_runs_whole_seconds() -> None:
    """wrk refuses `-d0.3s`: the quick run's short phases become one second."""
    assert [whole_seconds(s) for s in (0.3, 1.0, 2.5, 10.0)] == [1, 1, 3, 10]


def test_a_quick_run_judges_behaviour_and_shows_the_targets() -> None:
    """Targets missed fail a full run only; a quick run shows them as outside and passes on
    its behaviour; a request not answered fails both."""
    missed = [
        result("seed", 12_300, 45.0),
        result("ingest", 16_100, 450.0),
        result(f"ingest x{INGEST_WORKERS}", 16_000, 400.0),
    ]
    checks = verdicts([], missed, PLAN)
    assert (checks.passed(judged=False), checks.passed(judged=True)) == (True, False)
    assert [line.split()[0] for line in checks.lines(judged=False)] == ["PASS", *["outside"] * 3]
    unanswered = verdicts([], [*missed[:2], result(f"ingest x{INGEST_WORKERS}", 9, 1.0, 1)], PLAN)
    assert not unanswered.passed(judged=False)
