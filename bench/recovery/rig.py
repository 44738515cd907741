"""What every phase of a recovery run shares: its plan, its rig (the workers, the stream
and the watch on the actions) and what each kill measured."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.harness.kafka import Names
from bench.harness.watch import ActionWatch
from bench.recovery.stream import Stream
from bench.recovery.workers import Workers
from switchboard.settings import Settings

POLL = 0.1  # how often the results are read while waiting


@dataclass(frozen=True)
class Plan:
    rate: int  # messages a second, steady, whatever the workers do
    restarts: int  # kill and restart at once, this many times
    takeovers: int  # with two workers, kill one for good, this many times
    steady: float  # seconds of steady flow before each kill


@dataclass
class Episode:
    kind: str  # "restart" or "takeover"
    killed_at: float  # wall clock
    first: float = float("nan")  # seconds from the kill to the first action after it
    partitions: float = float("nan")  # ... until every inbound partition was answered again
    caught_up: float = float("nan")  # ... until everything sent before that was answered
    backlog: int = 0  # messages sent before every partition was answered, unanswered at kill


@dataclass
class Rig:
    settings: Settings
    names: Names
    plan: Plan
    workers: Workers
    watch: ActionWatch
    stream: Stream
    episodes: list[Episode] = field(default_factory=list)
