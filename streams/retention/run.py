"""One retention run: policies and candidates from PostgreSQL → the pure plan → removals.

In order, each step safe to repeat:

1. contacts past their policy: a ``gdpr_deletions`` row each (pending, reason and
   requested_by ``retention``), then an ``erasure.requested`` event each on
   contact-events.v1 — the erasure path every other erasure takes — then an audit row
   saying the event is on the log. A run that stopped before the audit row appends the
   event again next time (same event id);
2. conversations past their policy whose contact is not being erased: a
   ``conversation.erased`` event each on inbound.v1 (so the conversation state is
   dropped), then their messages, actions, statuses and the conversation row, in one
   transaction;
3. consent records past their policy: deleted;
4. analytics: there is no analytics store yet, so 0 is reported.

A second run at the same moment finds nothing left to remove. The counts go to one
structured log line, the metrics and the audit log; no contact id is logged.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

import structlog

from schemas.events import Event
from streams.retention.aged_rows import RetentionStore
from streams.retention.metrics import RetentionMetrics
from streams.retention.policy import (
    CONSENT_RECORDS,
    CONVERSATIONS,
    ConversationFact,
    RetentionPlan,
    cutoff,
    plan,
)
from streams.retention.requests import conversation_erased, deletion_id, erasure_requested, run_id

log = structlog.get_logger(__name__)

# Bounds how many events one transaction waits for, and how big one statement gets.
CHUNK = 500

T = TypeVar("T")


class EventSink(Protocol):
    async def emit(self, events: Sequence[Event]) -> None:
        """Return once every event is acknowledged by Kafka."""
        ...


@dataclass(frozen=True)
class RetentionReport:
    run: str
    now: datetime
    removed: dict[str, int]
    # Erasures of an earlier, interrupted run whose events were appended by this one.
    resumed: int

    def as_dict(self) -> dict[str, object]:
        return {
            "run": self.run,
            "now": self.now.isoformat(),
            "removed": self.removed,
            "resumed": self.resumed,
        }


def _chunks(items: Sequence[T]) -> list[Sequence[T]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


class Retention:
    def __init__(self, store: RetentionStore, sink: EventSink, metrics: RetentionMetrics) -> None:
        self.store = store
        self.sink = sink
        self.metrics = metrics

    async def run(self, now: datetime) -> RetentionReport:
        started = time.monotonic()
        try:
            report = await self._run(now)
        except Exception:
            self.metrics.failed()
            raise
        self.metrics.completed(report.removed, time.time())
        log.info(
            "retention_run",
            run=report.run,
            now=now.isoformat(),
            resumed=report.resumed,
            seconds=round(time.monotonic() - started, 3),
            **report.removed,
        )
        return report

    async def _run(self, now: datetime) -> RetentionReport:
        policies = await self.store.policies()
        contacts, conversations, consents = await self.store.facts(policies, now)
        decided = plan(policies, now, contacts, conversations, consents)
        resumed = await self._erase_contacts(decided, now)
        dropped = await self._drop_conversations(decided.drop_conversations, policies, now)
        limit = cutoff(policies, CONSENT_RECORDS, now)
        deleted = 0
        if limit is not None:
            for ids in _chunks(decided.delete_consent_records):
                deleted += await self.store.delete_consent_records(ids, limit)
        removed = {**decided.counts(), CONVERSATIONS: dropped, CONSENT_RECORDS: deleted}
        await self.store.audit_run(run_id(now), removed)
        return RetentionReport(run_id(now), now, removed, resumed)

    async def _erase_contacts(self, decided: RetentionPlan, now: datetime) -> int:
        new = [(deletion_id(contact, now), contact) for contact in decided.erase_contacts]
        await self.store.record_erasures(new, now)
        pending = await self.store.unannounced()
        for erasures in _chunks(pending):
            await self.sink.emit([erasure_requested(c, d, now) for d, c in erasures])
            await self.store.announced(erasures)
        return len({d for d, _ in pending} - {d for d, _ in new})

    async def _drop_conversations(
        self, facts: Sequence[ConversationFact], policies: dict[str, int], now: datetime
    ) -> int:
        limit = cutoff(policies, CONVERSATIONS, now)
        if limit is None:
            return 0
        by_key = {fact.conversation_key: fact for fact in facts}

        async def announce(keys: Sequence[str]) -> None:
            await self.sink.emit([conversation_erased(by_key[key], now) for key in keys])

        dropped = 0
        for chunk in _chunks(list(by_key)):
            dropped += len(await self.store.drop_conversations(chunk, limit, announce))
        return dropped
