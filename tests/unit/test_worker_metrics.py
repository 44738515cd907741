"""The worker's metrics move when the instrumented parts do their work."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import HumanMessage
from prometheus_client import generate_latest

from schemas.events import ConsentChanged, ConsentChangedData, HandoffRequested, ReplyRequested
from schemas.outbound import DeliveryResult
from streams.conversation.agent import Conversations
from streams.flow.graph import FlowOutcome
from streams.flow.retrieval import InMemoryRetriever
from streams.metrics.instruments import (
    MeteredFlow,
    MeteredRetriever,
    MeteredSender,
    metered_model,
    observe_event,
    timed_decoder,
)
from streams.metrics.registry import WorkerMetrics, dead_letter_reason, sql_verb
from switchboard.retrying import RetryLater
from tests.fakes.conversation_agent import REQUESTS, RecordingLog, ScriptedFlow
from tests.fakes.conversation_events import T0, message
from tests.fakes.outbound_actions import handoff, reply


def value(metrics: WorkerMetrics, name: str, **labels: str) -> float:
    found = metrics.registry.get_sample_value(name, labels)
    return found if found is not None else 0.0


async def _items(values: Iterable[Any]) -> AsyncIterator[Any]:
    for item in values:
        yield item


async def test_timed_counts_and_times_each_record_by_agent() -> None:
    """Every record an agent finishes is counted once and its handling time observed."""
    metrics = WorkerMetrics()
    seen = [item async for item in metrics.timed("store", _items([1, 2, 3]))]
    assert seen == [1, 2, 3]
    assert value(metrics, "switchboard_worker_messages_processed_total", agent="store") == 3
    assert value(metrics, "switchboard_worker_message_duration_seconds_count", agent="store") == 3


async def test_flow_runs_and_handoffs_are_counted_through_the_conversation_agent() -> None:
    """A conversation turn counts a flow run by intent and outcome, and a hand-off by reason."""
    metrics = WorkerMetrics()
    table: dict[str, Any] = {}
    flow = MeteredFlow(
        ScriptedFlow(FlowOutcome("handoff", "", intent="complaint", reason="complaint")), metrics
    )
    await Conversations(table, flow, RecordingLog(), clock=lambda: T0, requests=REQUESTS).handle(
        message(1)
    )
    runs = "switchboard_flow_runs_total"
    assert value(metrics, runs, intent="complaint", outcome="handoff") == 1
    assert value(metrics, "switchboard_handoffs_total", reason="complaint") == 1
    assert value(metrics, "switchboard_handoffs_total", reason="human_request") == 0


async def test_a_reply_without_intent_is_labelled_none() -> None:
    """An outcome without an intent still has a bounded label value."""
    metrics = WorkerMetrics()
    flow = MeteredFlow(ScriptedFlow(FlowOutcome("reply", "Hi", intent=None)), metrics)
    await Conversations({}, flow, RecordingLog(), clock=lambda: T0, requests=REQUESTS).handle(
        message(1)
    )
    assert value(metrics, "switchboard_flow_runs_total", intent="none", outcome="reply") == 1


async def test_retrieval_counts_searches_and_passages() -> None:
    """Each search is counted, with the passages it returned."""
    metrics = WorkerMetrics()
    retriever = MeteredRetriever(
        InMemoryRetriever.from_markdown(
            {"shipping.md": "# Shipping\n\n## Delivery\n\nDelivery takes three days."}
        ),
        metrics,
    )
    found = await retriever.search("how long does delivery take", 3)
    await retriever.search("zzz", 3)
    assert value(metrics, "switchboard_retrieval_searches_total") == 2
    assert value(metrics, "switchboard_retrieval_passages_returned_total") == len(found) > 0
    assert value(metrics, "switchboard_retrieval_duration_seconds_count") == 2


async def test_model_calls_and_errors_are_counted() -> None:
    """A chat model call is counted and timed; a failing one counts as an error too."""
    metrics = WorkerMetrics()
    model = metered_model(FakeListChatModel(responses=["fine"]), metrics)
    assert model is not None
    await model.ainvoke([HumanMessage("hello")])
    failing = metered_model(FakeListChatModel(responses=["x"], error_on_chunk_number=0), metrics)
    assert failing is not None
    with pytest.raises(Exception):  # noqa: B017, PT011 - the fake's own error type
        async for _ in failing.astream([HumanMessage("hello")]):
            pass
    assert value(metrics, "switchboard_model_calls_total") == 2
    assert value(metrics, "switchboard_model_errors_total", kind="permanent") == 1
    assert value(metrics, "switchboard_model_call_duration_seconds_count") == 2


def test_no_model_stays_no_model() -> None:
    """The offline responder (no model) is passed through."""
    assert metered_model(None, WorkerMetrics()) is None


class FixedSender:
    def __init__(self, result: DeliveryResult) -> None:
        self.result = result

    async def send(self, action: ReplyRequested | HandoffRequested) -> DeliveryResult:
        return self.result


class FailingSender:
    async def send(self, action: ReplyRequested | HandoffRequested) -> DeliveryResult:
        raise RetryLater("http_503")


async def test_deliveries_are_counted_by_provider_and_outcome() -> None:
    """The provider label is the action's source; the outcome is the round's: delivered,
    refused, or failed (the sender asked for the round to be sent again)."""
    metrics = WorkerMetrics()
    await MeteredSender(FixedSender(DeliveryResult.delivered()), metrics).send(reply("chatwoot"))
    refused = DeliveryResult.refused("http_400")
    await MeteredSender(FixedSender(refused), metrics).send(handoff("whatsapp-cloud"))
    name = "switchboard_deliveries_total"
    assert value(metrics, name, provider="chatwoot", outcome="delivered") == 1
    assert value(metrics, name, provider="whatsapp-cloud", outcome="refused") == 1
    with pytest.raises(RetryLater):
        await MeteredSender(FailingSender(), metrics).send(reply("360dialog"))
    assert value(metrics, name, provider="360dialog", outcome="failed") == 1


def test_dead_letter_reasons_are_reduced_to_their_class() -> None:
    """A reason's detail (status, SQLSTATE) never becomes a label value."""
    metrics = WorkerMetrics()
    metrics.dead_letter("delivery_refused:http_400")
    metrics.dead_letter("rejected:23505")
    metrics.dead_letter("undecodable")
    assert dead_letter_reason("delivery_refused:http_400") == "delivery_refused"
    for reason in ("delivery_refused", "rejected", "undecodable"):
        assert value(metrics, "switchboard_dead_letters_total", reason=reason) == 1
    assert "23505" not in generate_latest(metrics.registry).decode()


def test_queries_are_counted_by_verb_only() -> None:
    """A statement's verb is the label; its text and arguments are not."""
    metrics = WorkerMetrics()
    metrics.query("  INSERT INTO parcel_notes VALUES ($1)", 0.002, failed=False)
    metrics.query("(SELECT 1)", 0.001, failed=True)
    metrics.query("WITH x AS (SELECT 1) SELECT * FROM x", 0.001, failed=False)
    assert [sql_verb(q) for q in ("delete from t", "", "vacuum")] == ["delete", "other", "other"]
    assert value(metrics, "switchboard_postgres_queries_total", verb="insert") == 1
    assert value(metrics, "switchboard_postgres_query_errors_total", verb="select") == 1
    assert value(metrics, "switchboard_postgres_queries_total", verb="other") == 1
    assert "parcel_notes" not in generate_latest(metrics.registry).decode()


def test_pool_figures_are_read_at_scrape_time() -> None:
    """The pool gauge sums the registered pools' stats when scraped."""
    metrics = WorkerMetrics()
    stats = {"size": 4, "in_use": 1, "idle": 3, "max": 15}
    metrics.pool.sources.append(lambda: stats)
    state = "switchboard_postgres_pool_connections"
    assert value(metrics, state, state="in_use") == 1
    stats["in_use"] = 2
    assert value(metrics, state, state="in_use") == 2
    assert value(metrics, state, state="max") == 15


def _consent(granted: bool) -> ConsentChanged:
    return ConsentChanged(
        id="c1",
        source="switchboard",
        time=T0,
        subject="contact-1",
        correlation_id="k",
        data=ConsentChangedData(
            contact_id="contact-1", consent_type="marketing", granted=granted, reason="stop"
        ),
    )


async def test_privacy_events_on_contact_events_are_counted() -> None:
    """Consent changes seen by the exports agent's iterator are counted, and it is timed."""
    metrics = WorkerMetrics()

    async def decoded(stream: Any, dead_letters: Any) -> AsyncIterator[tuple[Any, object]]:
        yield "record", _consent(granted=False)

    seen = [item async for item in timed_decoder(metrics, "exports", decoded)(None, None)]
    assert len(seen) == 1
    name = "switchboard_consent_changes_total"
    assert value(metrics, name, consent_type="marketing", granted="false") == 1
    assert value(metrics, "switchboard_worker_messages_processed_total", agent="exports") == 1
    observe_event(metrics, object())  # anything else is not counted, and does not fail


def test_erasure_backlog() -> None:
    """The pending backlog with its oldest age (the eraser counts requests and completions
    itself, on the same registry)."""
    metrics = WorkerMetrics()
    metrics.erasure_backlog(3, 120.0)
    assert value(metrics, "switchboard_erasures_pending") == 3
    metrics.erasure_backlog(0, None)
    assert value(metrics, "switchboard_erasure_oldest_pending_age_seconds") == 0


def test_label_values_come_from_fixed_vocabularies() -> None:
    """Series exist at zero before any work, so dashboards and alerts see no gaps."""
    metrics = WorkerMetrics()
    text = generate_latest(metrics.registry).decode()
    assert 'switchboard_deliveries_total{outcome="failed",provider="360dialog"} 0.0' in text
    assert 'switchboard_handoffs_total{reason="flow_timeout"} 0.0' in text
