"""bench.lanes' verdicts: every customer of the keyed-lanes worker answered decides a quick
run; effective concurrency and 10 s while a destination is down decide a full run too."""

from __future__ import annotations

from bench.harness.verdicts import Verdicts
from bench.lanes.report import behaviour, targets
from bench.lanes.rows import BACK, DOWN, DOWN_WAIT_SECONDS, Row, slow_scenario
from bench.lanes.variants import BASELINE, LANES


def lanes_rows(chatwoot: float | None = 0.96, slow: float | None = 4.07) -> list[Row]:
    return [
        Row(LANES, slow_scenario(60), 60, slow, 15.2),
        Row(LANES, DOWN, 30, chatwoot, limit=DOWN_WAIT_SECONDS),
        Row(LANES, BACK, 30, 1.22),
        Row(BASELINE, slow_scenario(60), 60, 19.57, 24.5),
        Row(BASELINE, DOWN, 30, None, limit=DOWN_WAIT_SECONDS),  # the baseline is not judged
    ]


def test_lanes_quick_run_passes_on_behaviour_with_concurrency_outside_its_target() -> None:
    verdicts = Verdicts(behaviour(lanes_rows()), targets(lanes_rows()))
    assert verdicts.passed(judged=False)
    assert not verdicts.passed(judged=True)
    assert verdicts.lines(judged=False) == [
        "PASS slow model, N=60: every customer answered: 4.07 s",
        "PASS every Chatwoot customer answered while the Graph API is down: 0.96 s",
        "PASS every WhatsApp customer answered once it is back: 1.22 s",
        "outside effective concurrency at N=60 ≥ 20: 14.7",
        "within every Chatwoot customer answered within 10 s while the Graph API is down: 0.96 s",
    ]


def test_lanes_customers_not_answered_fail_even_a_quick_run() -> None:
    rows = lanes_rows(chatwoot=None, slow=None)
    verdicts = Verdicts(behaviour(rows), targets(rows))
    assert not verdicts.passed(judged=False)
    assert "FAIL slow model, N=60: every customer answered: not within 240 s" in verdicts.lines(
        judged=False
    )
