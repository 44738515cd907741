"""How long each phase of a run lasts, and at what load."""

from __future__ import annotations

from dataclasses import dataclass

SATURATION_CONNECTIONS = 32  # wrk's connections at which ingest is held to the seed design


@dataclass(frozen=True)
class Plan:
    warmup: float  # seconds, before every phase, not measured
    closed_seconds: float
    open_seconds: float
    saturation_seconds: float
    rate: int = 500
    concurrency: tuple[int, ...] = (1, 8, 32)
    connections: tuple[int, ...] = (8, SATURATION_CONNECTIONS)  # wrk's
