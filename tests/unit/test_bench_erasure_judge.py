"""The erasure benchmark's verdicts (bench/erasure/judge.py): behaviour judged by every run,
the machine-dependent targets by a full run only, and a check that mixed both split in two."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from bench.erasure.erasing import Erased
from bench.erasure.judge import ONE_TARGET_S, verdicts
from bench.erasure.phases import Results
from bench.erasure.removal import Removal, scratch_bound_s
from bench.erasure.report import render
from bench.erasure.rig import Plan

PLAN = Plan(contacts=10, events_per_contact=2, single=2, burst=3, removal_seconds=150.0)
ROWS = {"messages": 10, "conversations": 5, "actions": 0, "contact_identities": 5}


def erased(n: int, seconds: float, pending: list[str] | None = None) -> Erased:
    return Erased(f"del_{n}", f"contact-{n}", seconds, {"data-key": seconds / 2}, pending or [])


def results(*, single_seconds: float = 0.5, value_gone: float | None = 20.0) -> Results:
    return Results(
        info=[],
        single=[erased(n, single_seconds) for n in range(2)],
        burst=[erased(n, 3.0) for n in range(2, 5)],
        burst_wall=3.1,
        burst_done=3,
        floor_pg=[0.002] * 5,
        floor_tombstone=[0.006] * 5,
        removal=Removal(10.0, value_gone, 30.0, 31.0, "/kafka/scratch-0"),
        left={"messages": 0, "data keys": 0, "chatwoot contacts not anonymised": 0},
        proofs=5,
        others=5,
        kept_before=dict(ROWS),
        kept_after=dict(ROWS),
        kept_keys=5,
    )


def test_a_run_that_did_everything_in_time_passes_judged_or_not() -> None:
    judgement = verdicts(results(), PLAN)
    assert judgement.passed(judged=True)
    assert judgement.passed(judged=False)
    assert all(line.startswith("PASS ") for line in judgement.lines(judged=True))


def test_a_slow_single_erasure_fails_a_full_run_only() -> None:
    """Time is a target: a quick run shows it `outside` and still passes."""
    judgement = verdicts(results(single_seconds=ONE_TARGET_S + 1), PLAN)
    assert not judgement.passed(judged=True)
    assert judgement.passed(judged=False)
    assert any(line.startswith("outside one contact") for line in judgement.lines(judged=False))


def test_bytes_off_the_disk_after_the_bound_is_a_target_never_off_is_behaviour() -> None:
    late = verdicts(results(value_gone=scratch_bound_s() + 5), PLAN)
    assert late.passed(judged=False)
    assert not late.passed(judged=True)
    never = verdicts(results(value_gone=None), PLAN)
    assert not never.passed(judged=False)


def test_anything_left_untouched_others_or_a_missing_proof_fails_any_run() -> None:
    left = results()
    left.left["data keys"] = 1
    touched = results()
    touched.kept_after["messages"] = 9
    unproven = results()
    unproven.proofs = 4
    pending = results()
    pending.burst[0] = erased(2, math.nan, ["postgres"])
    for out in (left, touched, unproven, pending):
        assert not verdicts(out, PLAN).passed(judged=False)


def test_the_report_shows_targets_as_within_or_outside_on_a_quick_run() -> None:
    started = datetime(2026, 1, 1, tzinfo=UTC)
    report, passed = render(results(single_seconds=ONE_TARGET_S + 1), PLAN, started, judged=False)
    assert passed
    assert "outside one contact, every target complete" in report
    assert "PASS nothing else touched: the 5 contacts not erased keep their rows" in report
    report, passed = render(results(single_seconds=ONE_TARGET_S + 1), PLAN, started, judged=True)
    assert not passed
    assert "FAIL one contact, every target complete" in report
