"""Component statuses and what they add up to, as plain functions.

Each component reports `up`, `degraded` or `down`, and whether it is required:

- a required component down makes the whole `unhealthy`, answered with 503 so that load
  balancers and orchestrators stop routing to this instance;
- otherwise anything degraded, or an optional component down, makes it `degraded` (200);
- otherwise `healthy` (200).

Probes run concurrently, each within its own time budget; one that raises or overruns is
`down`, with only the exception's class name kept (messages may carry addresses or data).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

ComponentStatus = Literal["up", "degraded", "down"]
Overall = Literal["healthy", "degraded", "unhealthy"]
PROBE_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class ComponentHealth:
    status: ComponentStatus
    required: bool = True
    details: Mapping[str, Any] = field(default_factory=dict)


Probe = Callable[[], Awaitable[ComponentHealth]]


@dataclass(frozen=True)
class Check:
    """A named probe; `required` decides whether its failure makes the whole unhealthy."""

    name: str
    probe: Probe
    required: bool = True


def overall(components: Mapping[str, ComponentHealth]) -> Overall:
    if any(c.required and c.status == "down" for c in components.values()):
        return "unhealthy"
    if any(c.status != "up" for c in components.values()):
        return "degraded"
    return "healthy"


def http_status(status: Overall) -> int:
    return 503 if status == "unhealthy" else 200


def body(components: Mapping[str, ComponentHealth]) -> dict[str, Any]:
    """The seed contract: {"status": ..., "components": {name: {"status", "required", ...}}}."""
    return {
        "status": overall(components),
        "components": {
            name: {"status": c.status, "required": c.required, **c.details}
            for name, c in components.items()
        },
    }


async def _run_one(check: Check, budget: float) -> ComponentHealth:
    try:
        async with asyncio.timeout(budget):
            result = await check.probe()
    except TimeoutError:
        result = ComponentHealth("down", details={"error": "timeout"})
    except Exception as exc:
        result = ComponentHealth("down", details={"error": type(exc).__name__})
    return replace(result, required=check.required)


async def run_checks(
    checks: Sequence[Check], budget: float = PROBE_TIMEOUT_SECONDS
) -> dict[str, ComponentHealth]:
    """Every probe at once, each bounded by `budget` seconds; keyed by component name."""
    results = await asyncio.gather(*(_run_one(check, budget) for check in checks))
    return {check.name: result for check, result in zip(checks, results, strict=True)}
