"""`Flow.run`: the compiled graph under a time budget, with model retries; never raises.

Whatever happens inside, a message gets exactly one outcome: the graph's own, or a
hand-off when the budget runs out (``flow_timeout``) or something escapes the graph
(``flow_error``). Transient model errors are retried with exponential backoff; when the
retries run out the graph hands off with ``model_error``. The model's endpoint has a circuit
of its own in the worker's guard (`sinks.outbound.guard`): after failures in a row it opens,
and messages are handed off at once (``model_error``) instead of each waiting out its
retries against a model that is down, until a probe finds it back. The one exception that escapes is
`KnowledgeUnavailable`: our own database being down is waited out, not handed off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from schemas.events import HandoffReason
from schemas.knowledge import KnowledgeUnavailable, Passage, Retriever
from schemas.outbound import Destination
from sinks.outbound.guard import Guard
from streams.flow.graph import FlowInput, FlowOutcome, FlowState, build_graph, handoff_outcome
from streams.flow.model import is_transient
from switchboard.retrying import backoff, retrying

log = structlog.get_logger(__name__)

HISTORY_TURNS = 10

SYSTEM_PROMPT = """\
You are the customer-service assistant of an online shop, writing in a chat.
Answer the customer's last message using only the help-article passages below.
Be brief: a few sentences, plain text, no headings.
Reply in the language the customer wrote in.
If the passages do not answer the question, say that you don't know and that a colleague \
can help. Never guess, and never invent order details, prices, dates or policies.

Passages:
{passages}"""

Sleep = Callable[[float], Awaitable[None]]


class ModelUnavailableError(Exception):
    """The model's circuit is open: it failed too often in a row to be asked now."""


def prompt(inp: FlowInput, passages: list[Passage]) -> list[BaseMessage]:
    """The system instructions with the passages, the recent turns, then the message."""
    numbered = "\n\n".join(
        f"[{n}] {passage.title}\n{passage.text}" for n, passage in enumerate(passages, start=1)
    )
    messages: list[BaseMessage] = [SystemMessage(SYSTEM_PROMPT.format(passages=numbered))]
    for role, text in inp.history[-HISTORY_TURNS:]:
        messages.append(HumanMessage(text) if role == "customer" else AIMessage(text))
    messages.append(HumanMessage(inp.text or ""))
    return messages


class Flow:
    """The conversation flow for one process: build once, ``run`` once per message."""

    def __init__(
        self,
        retriever: Retriever,
        model: BaseChatModel | None,
        timeout_seconds: float,
        model_retries: int,
        min_score: float,
        *,
        sleep: Sleep = asyncio.sleep,
        guard: Guard | None = None,
        model_name: str = "chat-model",
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.model_retries = model_retries
        self._model = model
        self._sleep = sleep
        self._guard = guard
        self._endpoint = Destination("model", model_name)
        answer = self._answer if model is not None else None
        self._graph = build_graph(retriever, answer, min_score)

    async def run(self, inp: FlowInput) -> FlowOutcome:
        """Exactly one outcome for the message; a hand-off when anything goes wrong but the
        knowledge base being unreachable (`KnowledgeUnavailable` is raised: retry later)."""
        budget = asyncio.timeout(self.timeout_seconds)
        try:
            async with budget:
                state = await self._graph.ainvoke(FlowState(inp=inp))
        except KnowledgeUnavailable:
            raise
        except Exception as exc:
            reason: HandoffReason = "flow_timeout" if budget.expired() else "flow_error"
            log.warning(
                "flow_handed_off", event_id=inp.event_id, reason=reason, error=type(exc).__name__
            )
            return handoff_outcome(reason, None)
        outcome = state.get("outcome")
        if not isinstance(outcome, FlowOutcome):
            log.error("flow_without_outcome", event_id=inp.event_id)
            return handoff_outcome("flow_error", None)
        return outcome

    async def _answer(self, inp: FlowInput, passages: list[Passage]) -> str:
        """The model's reply; transient failures retried, the last failure raised."""
        if self._model is None:
            raise RuntimeError("no chat model configured")
        messages = prompt(inp, passages)
        policy = retrying(
            backoff("dependency"),
            "model",
            transient=is_transient,
            attempts=self.model_retries + 1,
            sleep=self._sleep,
            event="model_retry",
            level="info",
        )
        try:
            response: AIMessage = await policy(self._call, self._model, messages)
        except Exception as exc:
            attempts = policy.statistics.get("attempt_number", 1)
            log.warning(
                "model_failed", event_id=inp.event_id, error=type(exc).__name__, attempts=attempts
            )
            raise
        return response.text

    async def _call(self, model: BaseChatModel, messages: list[BaseMessage]) -> AIMessage:
        """One call through the model's circuit: refused while it is open; a transient
        failure, or a call cut short by the time budget, counts against it."""
        guard = self._guard
        if guard is None:
            return await model.ainvoke(messages)
        if not guard.may_call(self._endpoint):
            raise ModelUnavailableError("the chat model failed too often in a row")
        try:
            response = await model.ainvoke(messages)
        except Exception as exc:
            # A refusal (a bad key, a bad request) is the model answering for itself.
            guard.answered(self._endpoint, ok=not is_transient(exc))
            raise
        except asyncio.CancelledError:
            guard.answered(self._endpoint, ok=False)  # a probe cut short must not stay open
            raise
        guard.answered(self._endpoint, ok=True)
        return response
