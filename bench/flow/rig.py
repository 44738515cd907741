"""What every phase of the flow benchmark needs: how much to send (`Plan`) and the run's
processes, clients and fixed inputs (`Rig`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaProducer

from bench.harness.customers import Customers
from bench.harness.meter import Meter
from bench.harness.watch import Replies
from bench.harness.worker import WorkerRig
from schemas.keys import Pseudonymizer
from streams.flow.graph import FlowOutcome


@dataclass(frozen=True)
class Plan:
    messages: int  # N, for the worker and the ceiling
    rate: int  # end to end: webhooks per second
    seconds: float  # end to end: for how long


@dataclass(frozen=True)
class Rig(WorkerRig):
    """What every phase needs."""

    plan: Plan
    meter: Meter
    replies: Replies
    producer: AIOKafkaProducer
    customers: Customers
    keys: Pseudonymizer
    outcome: FlowOutcome  # the ceiling's fixed reply
    profile: Path | None  # py-spy's samples of the worker during its phase go here
