"""The worker's Prometheus metrics: one registry per process, served on its /metrics.

Every label takes its values from a fixed vocabulary (agent names, intents, hand-off
reasons, providers, outcomes, SQL verbs): nothing a customer sent, no contact or
conversation id, ever becomes a label value.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping, Sequence
from time import perf_counter
from typing import TypeVar, get_args

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from schemas.events import ConsentType, HandoffReason, Intent
from schemas.outbound import Destination

T = TypeVar("T")

AGENTS = ("store", "converse", "deliver", "exports")
PROVIDERS = ("chatwoot", "whatsapp-cloud", "360dialog")
DELIVERY_OUTCOMES = ("delivered", "refused", "failed")
EXPORT_OUTCOMES = ("requested", "completed", "failed", "skipped", "discarded")
SQL_VERBS = ("select", "insert", "update", "delete", "other")
POOL_STATES = ("size", "in_use", "idle", "max")

FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
SLOW = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


def sql_verb(query: str) -> str:
    """The statement's first keyword, or "other": a bounded label from a query's text."""
    head = query.lstrip(" \t\r\n(").split(None, 1)
    verb = head[0].lower() if head else ""
    return verb if verb in SQL_VERBS else "other"


def dead_letter_reason(reason: str) -> str:
    """The reason's class ("delivery_refused:http_400" → "delivery_refused"): bounded."""
    return reason.split(":", 1)[0] or "unknown"


class PoolCollector(Collector):
    """PostgreSQL pool figures read at scrape time from `Database.stats()`-like callables."""

    def __init__(self) -> None:
        self.sources: list[Callable[[], Mapping[str, int]]] = []

    def collect(self) -> list[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "switchboard_postgres_pool_connections",
            "Connections of the process's PostgreSQL pool, by state (size, in_use, idle, max).",
            labels=["state"],
        )
        totals = dict.fromkeys(POOL_STATES, 0)
        for source in self.sources:
            for state, value in source().items():
                if state in totals:
                    totals[state] += value
        for state, value in totals.items():
            family.add_metric([state], value)
        return [family]


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        # Told by the worker once its destinations' guard exists (/health/detailed).
        self.destinations_waiting: Callable[[], Sequence[tuple[Destination, str]]] = list
        r = self.registry
        self.processed = Counter(
            "switchboard_worker_messages_processed_total",
            "Records an agent finished handling (acknowledged next), by agent.",
            ["agent"],
            registry=r,
        )
        self.processing_seconds = Histogram(
            "switchboard_worker_message_duration_seconds",
            "Time an agent spent on one record, retries included, by agent.",
            ["agent"],
            buckets=SLOW,
            registry=r,
        )
        self.records_held = Gauge(
            "switchboard_worker_records_held",
            "Records an ordered agent holds, by agent: running, waiting behind an earlier "
            "record of their conversation, or done behind an earlier record of their "
            "partition (not acknowledged yet). A partition whose window is full stops "
            "fetching.",
            ["agent"],
            registry=r,
        )
        self.circuit_open = Gauge(
            "switchboard_outbound_circuit_open",
            "1 while a destination's circuit is open (calls held back after failures in a "
            "row), by destination kind and the business's own id for it.",
            ["kind", "destination"],
            registry=r,
        )
        self.commit_repairs = Counter(
            "switchboard_worker_commit_repairs_total",
            "Records lost inside the consumer, by topic and repair: a commit held by a "
            "record no agent was handling, read again from it (reread) or moved past offsets "
            "holding no record (skip); a record an ordered agent never got, its partition "
            "read again from it (record_missing).",
            ["topic", "repair"],
            registry=r,
        )
        self.flow_runs = Counter(
            "switchboard_flow_runs_total",
            "Conversation flow runs, by intent and outcome (reply or handoff).",
            ["intent", "outcome"],
            registry=r,
        )
        self.handoffs = Counter(
            "switchboard_handoffs_total",
            "Hand-offs to a person, by reason.",
            ["reason"],
            registry=r,
        )
        self.searches = Counter(
            "switchboard_retrieval_searches_total", "Knowledge-base searches.", registry=r
        )
        self.passages = Counter(
            "switchboard_retrieval_passages_returned_total",
            "Passages returned by knowledge-base searches.",
            registry=r,
        )
        self.search_seconds = Histogram(
            "switchboard_retrieval_duration_seconds",
            "Time one knowledge-base search took.",
            buckets=FAST,
            registry=r,
        )
        self.model_calls = Counter(
            "switchboard_model_calls_total", "Calls to the chat model.", registry=r
        )
        self.model_errors = Counter(
            "switchboard_model_errors_total",
            "Chat model calls that failed, by kind (transient or permanent).",
            ["kind"],
            registry=r,
        )
        self.model_seconds = Histogram(
            "switchboard_model_call_duration_seconds",
            "Time one chat model call took, failed calls included.",
            buckets=SLOW,
            registry=r,
        )
        self.deliveries = Counter(
            "switchboard_deliveries_total",
            "Rounds of sending an action to its provider, by provider and outcome (failed:"
            " a timeout, 429 or 5xx; the action is sent again).",
            ["provider", "outcome"],
            registry=r,
        )
        self.dead_letters = Counter(
            "switchboard_dead_letters_total",
            "Records parked on the dead-letter topic, by reason class.",
            ["reason"],
            registry=r,
        )
        self.queries = Counter(
            "switchboard_postgres_queries_total",
            "PostgreSQL statements run, by SQL verb.",
            ["verb"],
            registry=r,
        )
        self.query_errors = Counter(
            "switchboard_postgres_query_errors_total",
            "PostgreSQL statements that failed, by SQL verb.",
            ["verb"],
            registry=r,
        )
        self.query_seconds = Histogram(
            "switchboard_postgres_query_duration_seconds",
            "Time one PostgreSQL statement took, by SQL verb.",
            ["verb"],
            buckets=FAST,
            registry=r,
        )
        self.pool = PoolCollector()
        r.register(self.pool)
        self.consents = Counter(
            "switchboard_consent_changes_total",
            "Consent changes seen by the worker, by consent type and whether granted.",
            ["consent_type", "granted"],
            registry=r,
        )
        self.exports = Counter(
            "switchboard_exports_total", "Data exports, by outcome.", ["outcome"], registry=r
        )
        self.erasures_pending = Gauge(
            "switchboard_erasures_pending",
            "Erasures requested and not yet completed (from gdpr_deletions).",
            registry=r,
        )
        self.erasure_oldest_pending = Gauge(
            "switchboard_erasure_oldest_pending_age_seconds",
            "Age of the oldest erasure not yet completed; 0 when none is pending.",
            registry=r,
        )
        self._precreate()

    def _precreate(self) -> None:
        """Every series a dashboard or alert reads exists from the start, at zero."""
        for agent in AGENTS:
            self.processed.labels(agent)
        for reason in get_args(HandoffReason):
            self.handoffs.labels(reason)
        for provider in PROVIDERS:
            for outcome in DELIVERY_OUTCOMES:
                self.deliveries.labels(provider, outcome)
        for kind in ("transient", "permanent"):
            self.model_errors.labels(kind)
        for verb in SQL_VERBS:
            self.queries.labels(verb)
            self.query_errors.labels(verb)
        for consent in get_args(ConsentType):
            for granted in ("true", "false"):
                self.consents.labels(consent, granted)
        for outcome in EXPORT_OUTCOMES:
            self.exports.labels(outcome)
        for reason in ("undecodable", "delivery_refused", "rejected"):
            self.dead_letters.labels(reason)

    # --- what the instrumented code calls ------------------------------------------

    async def timed(self, agent: str, items: AsyncIterable[T]) -> AsyncIterator[T]:
        """Pass ``items`` through, timing the caller's work on each (from yield to resume)."""
        async for item in items:
            started = perf_counter()
            yield item
            self.processing_seconds.labels(agent).observe(perf_counter() - started)
            self.processed.labels(agent).inc()

    def handled(self, agent: str, seconds: float) -> None:
        """One record's work done (in its lane), after ``seconds``."""
        self.processing_seconds.labels(agent).observe(seconds)
        self.processed.labels(agent).inc()

    def flow_run(self, intent: Intent | None, outcome: str, reason: HandoffReason | None) -> None:
        self.flow_runs.labels(intent or "none", outcome).inc()
        if outcome == "handoff" and reason is not None:
            self.handoffs.labels(reason).inc()

    def delivery(self, provider: str, outcome: str) -> None:
        self.deliveries.labels(provider, outcome).inc()

    def dead_letter(self, reason: str) -> None:
        self.dead_letters.labels(dead_letter_reason(reason)).inc()

    def query(self, query: str, seconds: float, failed: bool) -> None:
        verb = sql_verb(query)
        self.queries.labels(verb).inc()
        self.query_seconds.labels(verb).observe(seconds)
        if failed:
            self.query_errors.labels(verb).inc()

    def consent_changed(self, consent_type: str, granted: bool) -> None:
        self.consents.labels(consent_type, "true" if granted else "false").inc()

    def export_finished(self, outcome: str) -> None:
        self.exports.labels(outcome).inc()

    def erasure_backlog(self, pending: int, oldest_age_seconds: float | None) -> None:
        self.erasures_pending.set(pending)
        self.erasure_oldest_pending.set(oldest_age_seconds or 0.0)
