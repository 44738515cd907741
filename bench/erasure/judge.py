"""The verdicts of an erasure run (`bench.harness.verdicts`). Behaviour, judged by every run:
every erasure completed with every target, each with its proof; nothing left of the erased
contacts; nothing of the others touched; a tombstoned value's bytes off the disk. Targets,
which depend on the machine and only a full run judges: one contact's erasure under
`ONE_TARGET_S`, and the tombstoned bytes gone within the scratch topic's bound."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from bench.erasure.erasing import Erased
from bench.erasure.phases import Results
from bench.erasure.removal import Removal, scratch_bound_s
from bench.erasure.rig import Plan
from bench.harness.report import number
from bench.harness.verdicts import Check, Verdicts

ONE_TARGET_S = 10.0


def complete(erased: Sequence[Erased]) -> bool:
    """Every deletion completed, with every one of its targets."""
    return all(not math.isnan(e.seconds) and bool(e.targets) and not e.pending for e in erased)


def counts(found: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {count:,}" for name, count in found.items())


def erasures(out: Results, plan: Plan) -> list[Check]:
    done, erased = len(out.single), [*out.single, *out.burst]
    return [
        Check(
            done == plan.single and complete(out.single),
            f"one contact at a time: {done}/{plan.single} erasures completed, every target "
            "complete",
        ),
        Check(
            out.burst_done == plan.burst and complete(out.burst),
            f"{out.burst_done}/{plan.burst} contacts erased at once completed "
            f"in {out.burst_wall:.1f} s, every target complete",
        ),
        Check(
            out.proofs == plan.single + plan.burst,
            f"proofs on erasures.v1: {out.proofs}/{plan.single + plan.burst} erased contacts, "
            f"each naming its deletion ({len(erased)} deletions found)",
        ),
    ]


def copies(out: Results) -> list[Check]:
    before, after = out.kept_before, out.kept_after
    return [
        Check(
            bool(out.left) and not any(out.left.values()),
            f"nothing left of the erased contacts: {counts(out.left)}",
        ),
        Check(
            bool(after)
            and after == before
            and after["messages"] > 0
            and out.kept_keys == out.others,
            f"nothing else touched: the {out.others:,} contacts not erased keep their rows "
            f"({counts(after)}{'' if after == before else f'; before: {counts(before)}'}) "
            f"and {out.kept_keys:,} data keys",
        ),
    ]


def removed(removal: Removal) -> Check:
    return Check(
        removal.value_gone is not None,
        f"a tombstoned value's bytes off the disk: {number(removal.value_gone)} s after the "
        f"tombstone (watched {removal.watched:.0f} s)",
    )


def behaviour(out: Results, plan: Plan) -> list[Check]:
    """What an erasure must do on any machine."""
    return [
        *erasures(out, plan),
        *copies(out),
        *([removed(out.removal)] if out.removal is not None else []),
    ]


def targets(out: Results) -> list[Check]:
    """How long it takes, which depends on the machine and the broker's cleaner."""
    worst = max((e.seconds for e in out.single), default=math.nan)
    checks = [
        Check(
            worst < ONE_TARGET_S,
            f"one contact, every target complete: max {worst:.2f} s over {len(out.single)} "
            f"(target < {ONE_TARGET_S:g} s, Chatwoot stand-in included)",
        )
    ]
    removal, bound_s = out.removal, scratch_bound_s()
    if removal is not None:
        checks.append(
            Check(
                removal.value_gone is not None and removal.value_gone <= bound_s,
                f"a tombstoned value's bytes off the disk within the scratch topic's bound: "
                f"{number(removal.value_gone)} s (bound {bound_s:g} s)",
            )
        )
    return checks


def verdicts(out: Results, plan: Plan) -> Verdicts:
    return Verdicts(behaviour(out, plan), targets(out))
