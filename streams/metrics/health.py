"""The worker's ``/health/detailed``, beside its ``/metrics``: which destinations' circuits
are open (a named destination whose actions wait, parked with their conversations) and how
many records each ordered agent holds. Pure: built from what the guard and gauges know.

The shape is ingest's (docs/operations.md): ``{"status", "components": {name: {"status",
"required", ...}}}``. An open circuit makes the worker ``degraded``, not unhealthy: every
other destination keeps flowing, and nothing is lost while one waits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from schemas.outbound import Destination


def worker_health(
    waiting: Sequence[tuple[Destination, str]], held: Mapping[str, float]
) -> dict[str, Any]:
    """``waiting``: the destinations whose circuit is not closed, with its state;
    ``held``: records held per agent (running, waiting in a lane, or done behind one)."""
    destinations = {
        "status": "degraded" if waiting else "up",
        "required": False,
        "not_closed": [
            {"kind": destination.kind, "id": destination.id, "circuit": state}
            for destination, state in sorted(waiting, key=lambda item: str(item[0]))
        ],
    }
    lanes = {"status": "up", "required": True, "records_held": dict(sorted(held.items()))}
    return {
        "status": "degraded" if waiting else "healthy",
        "components": {"destinations": destinations, "lanes": lanes},
    }
