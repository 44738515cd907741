"""Ingest's Prometheus metrics, on a registry of their own (no global state).

Labels take values from fixed vocabularies only: provider names, outcome names, event
types. Nothing a sender controls becomes a label value.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from ingest.admission import BodyBudget
from ingest.compliance.errors import COUNTED_REASONS

PROVIDERS = ("chatwoot", "whatsapp", "360dialog")
OUTCOMES = (
    "accepted",
    "ignored",
    "unrecognised",
    "bad_signature",
    "stale_timestamp",
    "malformed",
    "oversized",
    "unsupported_media_type",
    "rate_limited",
    "broker_unavailable",
    "broker_refused",
    "keys_unavailable",
    "busy",
    "too_many_bodies",
    "body_timeout",
    "client_disconnected",
    "not_configured",
)

# The compliance API: endpoint names and outcomes are ours, never a caller's input.
COMPLIANCE_ENDPOINTS = (
    "consent",
    "export",
    "export_status",
    "export_download",
    "erasure",
    "deletion_status",
)
COMPLIANCE_OUTCOMES = (
    "accepted",
    "ok",
    "served",
    "already_pending",
    "invalid",
    "unauthenticated",
    "forbidden",
    "bad_signature",
    "not_found",
    "expired",
    "unavailable",
    "broker_unavailable",
    "broker_refused",
    "rate_limited",
    "not_owner",
    "error",
)


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.webhooks = Counter(
            "switchboard_webhook_requests_total",
            "Webhook requests by provider and outcome.",
            ["provider", "outcome"],
            registry=self.registry,
        )
        self.events = Counter(
            "switchboard_webhook_events_total",
            "Events written to the log from webhooks, by provider and event type.",
            ["provider", "type"],
            registry=self.registry,
        )
        self.ignored_parts = Counter(
            "switchboard_webhook_ignored_updates_total",
            "Parts of accepted webhook bodies that were deliberately not turned into events.",
            ["provider"],
            registry=self.registry,
        )
        self.produce_seconds = Histogram(
            "switchboard_produce_duration_seconds",
            "Time from handing a webhook's events to Kafka until every one was acknowledged.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.compliance = Counter(
            "switchboard_compliance_requests_total",
            "Compliance API requests by endpoint and outcome.",
            ["endpoint", "outcome"],
            registry=self.registry,
        )
        self.compliance_counted = Counter(
            "switchboard_compliance_counted_refusals_total",
            "Compliance API refusals of callers who proved no key (and of keys over their "
            "rate), counted per minute in audit_refusals rather than audited one by one.",
            ["reason"],
            registry=self.registry,
        )
        self.body_bytes = Gauge(
            "switchboard_webhook_body_bytes",
            "Bytes of webhook bodies being read, by size class (small bodies have a share "
            "of the budget that large ones never use).",
            ["size"],
            registry=self.registry,
        )
        # Pre-create every series so dashboards see zeros rather than gaps.
        for endpoint in COMPLIANCE_ENDPOINTS:
            for outcome in COMPLIANCE_OUTCOMES:
                self.compliance.labels(endpoint, outcome)
        for reason in COUNTED_REASONS:
            self.compliance_counted.labels(reason)
        for provider in PROVIDERS:
            self.ignored_parts.labels(provider)
            for outcome in OUTCOMES:
                self.webhooks.labels(provider, outcome)

    def watch_bodies(self, bodies: BodyBudget) -> None:
        """Read the bytes held from the budget whenever metrics are scraped."""
        self.body_bytes.labels("small").set_function(lambda: bodies.held_small)
        self.body_bytes.labels("large").set_function(lambda: bodies.held_large)
