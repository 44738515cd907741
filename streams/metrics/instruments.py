"""Wrappers that count what the worker's parts do, around the ports they already have.

Each wraps one port (the flow, the retriever, the chat model, the sender) and forwards to
it unchanged, so the instrumented code itself stays free of metrics.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from time import perf_counter
from typing import Any, Protocol, TypeVar
from uuid import UUID

from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.outputs import LLMResult

from schemas.events import (
    ConsentChanged,
    ExportRequested,
    HandoffRequested,
    MessageReceived,
    ReplyRequested,
)
from schemas.knowledge import Passage, Retriever
from schemas.outbound import DeliveryResult
from streams.conversation.agent import FlowRunner
from streams.conversation.state import ConversationState
from streams.flow.graph import FlowOutcome
from streams.flow.model import is_transient
from streams.metrics.registry import WorkerMetrics
from switchboard.retrying import RetryLater

T = TypeVar("T")
Action = ReplyRequested | HandoffRequested


class MeteredFlow:
    """Counts flow runs by intent and outcome, and hand-offs by reason."""

    def __init__(self, inner: FlowRunner, metrics: WorkerMetrics) -> None:
        self.inner = inner
        self.metrics = metrics

    async def run(self, message: MessageReceived, state: ConversationState) -> FlowOutcome:
        outcome = await self.inner.run(message, state)
        self.metrics.flow_run(outcome.intent, outcome.kind, outcome.reason)
        return outcome


class MeteredRetriever:
    """Counts knowledge-base searches, their passages and their duration."""

    def __init__(self, inner: Retriever, metrics: WorkerMetrics) -> None:
        self.inner = inner
        self.metrics = metrics

    async def search(self, query: str, limit: int) -> list[Passage]:
        started = perf_counter()
        passages = await self.inner.search(query, limit)
        self.metrics.search_seconds.observe(perf_counter() - started)
        self.metrics.searches.inc()
        self.metrics.passages.inc(len(passages))
        return passages


class ModelCallbacks(AsyncCallbackHandler):
    """LangChain callbacks counting chat model calls, failures and latency."""

    def __init__(self, metrics: WorkerMetrics) -> None:
        self.metrics = metrics
        self._started: dict[UUID, float] = {}

    async def on_chat_model_start(
        self, serialized: dict[str, Any], messages: Any, *, run_id: UUID, **_: Any
    ) -> None:
        self.metrics.model_calls.inc()
        self._started[run_id] = perf_counter()

    async def on_llm_end(self, response: LLMResult, *, run_id: UUID, **_: Any) -> None:
        self._finished(run_id)

    async def on_llm_error(self, error: BaseException, *, run_id: UUID, **_: Any) -> None:
        self._finished(run_id)
        self.metrics.model_errors.labels("transient" if is_transient(error) else "permanent").inc()

    def _finished(self, run_id: UUID) -> None:
        started = self._started.pop(run_id, None)
        if started is not None:
            self.metrics.model_seconds.observe(perf_counter() - started)


def metered_model(model: BaseChatModel | None, metrics: WorkerMetrics) -> BaseChatModel | None:
    """The same model, reporting its calls to ``metrics``."""
    if model is not None:
        model.callbacks = [*(model.callbacks or []), ModelCallbacks(metrics)]  # type: ignore[misc]
    return model


class Sender(Protocol):
    async def send(self, action: Action) -> DeliveryResult: ...


class MeteredSender:
    """Counts the rounds of sending an action to its provider, by provider and outcome:
    delivered, refused, or failed (to be sent again by the record's policy)."""

    def __init__(self, inner: Sender, metrics: WorkerMetrics) -> None:
        self.inner = inner
        self.metrics = metrics

    async def send(self, action: Action) -> DeliveryResult:
        try:
            result = await self.inner.send(action)
        except RetryLater:
            self.metrics.delivery(action.data.source, "failed")
            raise
        self.metrics.delivery(action.data.source, result.outcome)
        return result


def observe_event(metrics: WorkerMetrics, event: object) -> None:
    """Count the export requests and consent changes passing through contact-events (the
    eraser counts erasures: `streams/erasure/metrics.py`)."""
    if isinstance(event, ConsentChanged):
        metrics.consent_changed(event.data.consent_type, event.data.granted)
    elif isinstance(event, ExportRequested):
        metrics.exports.labels("requested").inc()


Decoder = Callable[[Any, Any], AsyncIterator[tuple[Any, object]]]


def timed_decoder(metrics: WorkerMetrics, agent: str, decoded: Decoder) -> Decoder:
    """The worker's event iterator for ``agent``, timed per record, privacy events counted."""

    async def wrapped(stream: Any, dead_letters: Any) -> AsyncIterator[tuple[Any, object]]:
        async for record, event in metrics.timed(agent, decoded(stream, dead_letters)):
            observe_event(metrics, event)
            yield record, event

    return wrapped
