"""A benchmark's verdicts, in two kinds.

Behaviour (every message answered exactly once, nothing refused, lag back to 0) holds on
any machine and in any run, short or long: it is always judged. Targets (throughput
ratios, latency quantiles, memory growth) depend on the machine and on enough samples: a
full run judges them; a quick run (a smoke check of a few hundred messages) and a test
show them as `within` or `outside` without judging, because its samples are too few for a
quantile or a ratio to mean anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    ok: bool
    text: str


@dataclass(frozen=True)
class Verdicts:
    behaviour: Sequence[Check]
    targets: Sequence[Check]

    def passed(self, *, judged: bool) -> bool:
        """Behaviour held, and the targets too when they are `judged`."""
        must = all(check.ok for check in self.behaviour)
        return must and (not judged or all(check.ok for check in self.targets))

    def lines(self, *, judged: bool) -> list[str]:
        """One line a check: PASS/FAIL, or within/outside for targets not judged."""
        good, bad = ("PASS", "FAIL") if judged else ("within", "outside")
        return [
            *(f"{'PASS' if c.ok else 'FAIL'} {c.text}" for c in self.behaviour),
            *(f"{good if c.ok else bad} {c.text}" for c in self.targets),
        ]
