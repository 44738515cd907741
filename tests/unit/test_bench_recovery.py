"""bench.recovery's verdicts: every message answered exactly once decides a quick run;
every partition answered again within 15 s of a kill decides a full run too."""

from __future__ import annotations

from bench.recovery.exactly_once import Counts
from bench.recovery.report import verdicts
from bench.recovery.rig import Episode


def test_recovery_judges_exactly_once_always_and_the_time_to_recover_in_full_runs() -> None:
    episodes = [Episode("restart", 0.0, 6.9, 16.0, 18.0, 141), Episode("takeover", 0.0, 0.1, 7.1)]
    once = Counts(sent=764, missing=0, repeated=0, replies=764, unreplied=0, twice=0)
    slow = verdicts(episodes, once)
    assert slow.passed(judged=False)
    assert not slow.passed(judged=True)
    assert [line.split(":")[0] for line in slow.lines(judged=False)] == [
        "PASS every message answered exactly once",
        "outside restart",
        "within takeover",
    ]
    twice = Counts(sent=764, missing=0, repeated=1, replies=765, unreplied=0, twice=1)
    assert not verdicts(episodes, twice).passed(judged=False)
