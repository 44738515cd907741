"""Every branch of the conversation flow, with fake chat models and an in-memory knowledge base."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx2
import openai
import pytest
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatResult
from pydantic import Field

from schemas.knowledge import KnowledgeUnavailable, Passage
from schemas.outbound import Destination
from sinks.outbound.guard import Guard
from streams.flow.graph import (
    MAX_ANSWER_CHARS,
    Confirmation,
    FlowOutcome,
    build_graph,
    offline_answer,
    trim,
)
from streams.flow.retrieval import InMemoryRetriever
from streams.flow.runner import HISTORY_TURNS, Flow
from streams.flow.texts import (
    ALREADY_OPTED_OUT_REPLY,
    DATA_INFO_REPLIES,
    DEFAULT_HANDOFF_REPLY,
    GREETING_REPLY,
    THANKS_REPLY,
)
from tests.fakes.flow import DELIVERY_QUESTION, KB, Sleeps, make_flow, message


class ScriptedModel(GenericFakeChatModel):
    """A GenericFakeChatModel that records its prompts, can be slow, and fails first if told."""

    failures: list[Exception] = Field(default_factory=list)
    delay: float = 0.0
    prompts: list[list[BaseMessage]] = Field(default_factory=list)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.prompts.append(list(messages))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failures:
            raise self.failures.pop(0)
        return self._generate(messages, stop=stop, **kwargs)


def model(*replies: str, failures: list[Exception] | None = None, delay: float = 0.0) -> Any:
    return ScriptedModel(
        messages=iter([AIMessage(reply) for reply in replies]),
        failures=failures or [],
        delay=delay,
    )


_REQUEST = httpx2.Request("POST", "http://model.test/v1/chat/completions")


def timeout_error() -> Exception:
    return openai.APITimeoutError(request=_REQUEST)


def rate_limited() -> Exception:
    response = httpx2.Response(429, request=_REQUEST)
    return openai.RateLimitError("slow down", response=response, body=None)


def unauthorised() -> Exception:
    response = httpx2.Response(401, request=_REQUEST)
    return openai.AuthenticationError("bad key", response=response, body=None)


class FailingRetriever:
    async def search(self, query: str, limit: int) -> list[Passage]:
        raise RuntimeError("knowledge base unavailable")


class HangingRetriever:
    async def search(self, query: str, limit: int) -> list[Passage]:
        await asyncio.sleep(10)
        return []


def test_the_graph_has_its_named_nodes() -> None:
    """The compiled graph is the documented one: explicit nodes between start and end."""
    graph = build_graph(InMemoryRetriever(), None, min_score=0.05).get_graph()
    assert set(graph.nodes) == {
        "__start__",
        "consent_gate",
        "intent",
        "retrieve",
        "generate",
        "guard",
        "reply",
        "greet",
        "handoff",
        "opt_out",
        "data_request",
        "data_info",
        "__end__",
    }


# --- answering ---------------------------------------------------------------------------


async def test_a_question_is_answered_by_the_model_from_the_passages() -> None:
    """The model's reply goes out, grounded in the retrieved passages."""
    fake = model("Delivery takes 1-2 working days in the Netherlands.")
    outcome = await make_flow(fake).run(message(DELIVERY_QUESTION))
    assert outcome == FlowOutcome(
        "reply",
        "Delivery takes 1-2 working days in the Netherlands.",
        "order_status",
        passages_used=2,
    )
    [prompt] = fake.prompts
    assert isinstance(prompt[0], SystemMessage)
    assert "only" in prompt[0].text
    assert "1-2 working days" in prompt[0].text
    assert "30 days" in prompt[0].text
    assert prompt[-1] == HumanMessage(DELIVERY_QUESTION)


async def test_the_prompt_carries_the_recent_history_in_order() -> None:
    """Earlier turns reach the model as customer and assistant messages, the newest last."""
    fake = model("Yes, within 30 days.")
    history = tuple(("customer" if n % 2 else "bot", f"turn {n}") for n in range(14))
    await make_flow(fake).run(message("Can I return a lamp?", history=history))
    [prompt] = fake.prompts
    turns = prompt[1:-1]
    assert len(turns) == HISTORY_TURNS
    assert [m.text for m in turns] == [f"turn {n}" for n in range(4, 14)]
    assert isinstance(turns[-1], HumanMessage)
    assert isinstance(turns[-2], AIMessage)


async def test_the_offline_responder_answers_from_the_best_passage() -> None:
    """Without a model, the best passage is the answer, with a short lead-in."""
    outcome = await make_flow(None).run(message(DELIVERY_QUESTION))
    assert outcome.kind == "reply"
    assert outcome.intent == "order_status"
    assert "How long does delivery take?" in outcome.text
    assert "1-2 working days" in outcome.text
    assert outcome.passages_used == 1


async def test_the_offline_responder_hands_off_when_it_finds_nothing() -> None:
    """Nothing relevant found: the customer is told so, and a colleague takes over."""
    outcome = await make_flow(None).run(message("Do you sell garden furniture?"))
    assert outcome.kind == "handoff"
    assert outcome.reason == "low_confidence"
    assert "couldn't find" in outcome.text
    assert "colleague" in outcome.text


async def test_the_model_is_not_asked_when_nothing_relevant_is_found() -> None:
    """Low retrieval confidence hands off before any model call."""
    fake = model("anything")
    outcome = await make_flow(fake).run(message("Do you sell garden furniture?"))
    assert (outcome.kind, outcome.reason) == ("handoff", "low_confidence")
    assert fake.prompts == []


async def test_passages_below_the_minimum_score_do_not_count() -> None:
    """A weak match (one query term of several) is low confidence under a strict threshold."""
    outcome = await make_flow(None, min_score=0.9).run(message("How long is the warranty?"))
    assert (outcome.kind, outcome.reason) == ("handoff", "low_confidence")


async def test_a_message_without_text_is_handed_off_with_a_neutral_note() -> None:
    """A photo or voice note is not looked up; a colleague follows up."""
    outcome = await make_flow(None).run(message(None))
    assert outcome == FlowOutcome(
        "handoff", DEFAULT_HANDOFF_REPLY, "other", reason="low_confidence"
    )


# --- the guard ---------------------------------------------------------------------------


async def test_an_empty_answer_is_handed_off() -> None:
    """A blank model reply never goes out."""
    outcome = await make_flow(model("   ")).run(message(DELIVERY_QUESTION))
    assert (outcome.kind, outcome.reason) == ("handoff", "empty_answer")
    assert outcome.text


async def test_an_overlong_answer_is_handed_off() -> None:
    """A reply longer than the limit never goes out."""
    long_reply = "Delivery takes a while. " * 60
    assert len(long_reply.strip()) > MAX_ANSWER_CHARS
    outcome = await make_flow(model(long_reply)).run(message(DELIVERY_QUESTION))
    assert (outcome.kind, outcome.reason) == ("handoff", "overlong_answer")


async def test_an_answer_at_the_limit_goes_out() -> None:
    """Exactly the maximum length is still a reply."""
    reply = "x" * MAX_ANSWER_CHARS
    outcome = await make_flow(model(reply)).run(message(DELIVERY_QUESTION))
    assert (outcome.kind, outcome.text) == ("reply", reply)


async def test_a_permanent_model_error_is_handed_off_without_retrying() -> None:
    """An error that will not pass on its own (a bad key) is not retried."""
    sleeps = Sleeps()
    fake = model("unused", failures=[unauthorised()])
    outcome = await make_flow(fake, sleeps=sleeps).run(message(DELIVERY_QUESTION))
    assert (outcome.kind, outcome.reason) == ("handoff", "model_error")
    assert len(fake.prompts) == 1
    assert sleeps.waits == []


# --- retries and the time budget ---------------------------------------------------------


async def test_transient_model_errors_are_retried_then_answered() -> None:
    """Timeouts and rate limits are retried with growing waits until the model answers."""
    sleeps = Sleeps()
    fake = model("1-2 working days.", failures=[timeout_error(), rate_limited()])
    outcome = await make_flow(fake, sleeps=sleeps, retries=3).run(message(DELIVERY_QUESTION))
    assert (outcome.kind, outcome.text) == ("reply", "1-2 working days.")
    assert len(fake.prompts) == 3
    assert len(sleeps.waits) == 2
    assert 0.1 <= sleeps.waits[0] <= 0.2
    assert 0.2 <= sleeps.waits[1] <= 0.4


async def test_exhausted_retries_hand_off() -> None:
    """When every retry fails, the conversation goes to a human."""
    sleeps = Sleeps()
    failures = [timeout_error() for _ in range(4)]
    fake = model("never", failures=failures)
    outcome = await make_flow(fake, sleeps=sleeps, retries=3).run(message(DELIVERY_QUESTION))
    assert (outcome.kind, outcome.reason) == ("handoff", "model_error")
    assert outcome.text == DEFAULT_HANDOFF_REPLY
    assert len(fake.prompts) == 4
    assert len(sleeps.waits) == 3


async def test_zero_retries_means_one_attempt() -> None:
    """With retries off, a transient error hands off at once."""
    fake = model("never", failures=[rate_limited()])
    outcome = await make_flow(fake, retries=0).run(message(DELIVERY_QUESTION))
    assert outcome.reason == "model_error"
    assert len(fake.prompts) == 1


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def guarded_flow(chat_model: Any, guard: Guard, *, timeout: float = 5.0) -> Flow:
    return Flow(
        InMemoryRetriever.from_markdown(KB),
        chat_model,
        timeout_seconds=timeout,
        model_retries=0,
        min_score=0.05,
        sleep=Sleeps(),
        guard=guard,
        model_name="openai:test-model",
    )


MODEL = Destination("model", "openai:test-model")


async def test_a_model_that_keeps_failing_opens_its_circuit_and_messages_hand_off_at_once() -> None:
    """Three failures in a row open the model's circuit: the next customer is handed to a
    person without the model being asked; after the cool-down one probe goes, and its
    success closes the circuit."""
    clock = Clock()
    guard = Guard(failures=3, clock=clock)
    fake = model("1-2 working days.", failures=[timeout_error() for _ in range(3)])
    flow = guarded_flow(fake, guard)
    for _ in range(3):
        assert (await flow.run(message(DELIVERY_QUESTION))).reason == "model_error"
    assert guard.not_closed() == [(MODEL, "open")]
    outcome = await flow.run(message(DELIVERY_QUESTION))
    assert (outcome.kind, outcome.reason) == ("handoff", "model_error")
    assert len(fake.prompts) == 3  # not asked while open
    clock.now += 10
    outcome = await flow.run(message(DELIVERY_QUESTION))
    assert (outcome.kind, outcome.text) == ("reply", "1-2 working days.")
    assert guard.not_closed() == []


async def test_a_probe_cut_short_by_the_budget_opens_the_circuit_again() -> None:
    """The probe times out with its message: the circuit opens again rather than waiting
    for a probe that will never answer."""
    clock = Clock()
    guard = Guard(failures=1, clock=clock)
    assert (
        await guarded_flow(model("x", failures=[timeout_error()]), guard).run(
            message(DELIVERY_QUESTION)
        )
    ).reason == "model_error"
    clock.now += 10
    slow = guarded_flow(model("late", delay=1.0), guard, timeout=0.05)
    assert (await slow.run(message(DELIVERY_QUESTION))).reason == "flow_timeout"
    assert guard.not_closed() == [(MODEL, "open")]


async def test_a_refusal_does_not_open_the_circuit() -> None:
    """A bad key is the model answering for itself: hand-offs, but the circuit stays shut."""
    guard = Guard(failures=1, clock=Clock())
    flow = guarded_flow(model("x", failures=[unauthorised(), unauthorised()]), guard)
    for _ in range(2):
        assert (await flow.run(message(DELIVERY_QUESTION))).reason == "model_error"
    assert guard.not_closed() == []


async def test_a_slow_model_past_the_budget_hands_off() -> None:
    """The time budget covers the whole message; past it, a human takes over."""
    fake = model("too late", delay=10)
    started = time.monotonic()
    outcome = await make_flow(fake, timeout=0.05).run(message(DELIVERY_QUESTION))
    assert (outcome.kind, outcome.reason) == ("handoff", "flow_timeout")
    assert outcome.intent is None
    assert outcome.text == DEFAULT_HANDOFF_REPLY
    assert time.monotonic() - started < 2


async def test_a_hanging_retriever_past_the_budget_hands_off() -> None:
    """The budget holds even when the model is not involved."""
    outcome = await make_flow(None, retriever=HangingRetriever(), timeout=0.05).run(
        message(DELIVERY_QUESTION)
    )
    assert outcome.reason == "flow_timeout"


async def test_an_error_escaping_the_graph_hands_off() -> None:
    """A failure outside the model (the knowledge base) still yields a hand-off, not an error."""
    outcome = await make_flow(None, retriever=FailingRetriever()).run(message(DELIVERY_QUESTION))
    assert (outcome.kind, outcome.reason) == ("handoff", "flow_error")


class UnreachableRetriever:
    async def search(self, query: str, limit: int) -> list[Passage]:
        raise KnowledgeUnavailable("CannotConnectNowError")


async def test_an_unreachable_knowledge_base_is_waited_for_not_handed_off() -> None:
    """Our own database restarting is no reason to hand a customer to a person: the error
    escapes, so the agent retries the message once the database is back."""
    with pytest.raises(KnowledgeUnavailable):
        await make_flow(None, retriever=UnreachableRetriever()).run(message(DELIVERY_QUESTION))


# --- branches that never reach the model -------------------------------------------------


async def test_a_greeting_gets_a_fixed_reply() -> None:
    """Hello is answered without retrieval or model."""
    fake = model("unused")
    outcome = await make_flow(fake).run(message("Hello!"))
    assert outcome == FlowOutcome("reply", GREETING_REPLY, "greeting")
    assert fake.prompts == []


async def test_thanks_gets_a_welcome() -> None:
    """A thank-you is acknowledged, not answered as a question."""
    outcome = await make_flow(model("unused")).run(message("Thanks a lot!"))
    assert outcome == FlowOutcome("reply", THANKS_REPLY, "greeting")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("This is unacceptable, I want to complain", "complaint"),
        ("talk to a human", "human_request"),
    ],
)
async def test_complaints_and_requests_for_a_human_are_handed_off(text: str, reason: str) -> None:
    """Complaints and explicit requests for a person go straight to a colleague."""
    fake = model("unused")
    outcome = await make_flow(fake).run(message(text))
    assert (outcome.kind, outcome.reason, outcome.intent) == ("handoff", reason, reason)
    assert "colleague" in outcome.text
    assert fake.prompts == []


@pytest.mark.parametrize("text", ["STOP", "Arrêt", "BAJA", "abmelden", "unsubscribe"])
async def test_an_opt_out_withdraws_marketing_and_is_acknowledged(text: str) -> None:
    """An opt-out records the withdrawal and says so, without the model."""
    fake = model("unused")
    outcome = await make_flow(fake).run(message(text, marketing_consent=True))
    assert outcome.kind == "reply"
    assert outcome.intent == "opt_out"
    assert outcome.consent_withdrawn == "marketing"
    assert "marketing" in outcome.text
    assert fake.prompts == []


async def test_a_repeated_opt_out_is_recorded_again() -> None:
    """An opt-out when marketing is already withdrawn says so, and still records it."""
    outcome = await make_flow(None).run(message("STOP", marketing_consent=False))
    assert outcome.text == ALREADY_OPTED_OUT_REPLY
    assert outcome.consent_withdrawn == "marketing"


VERIFIED = Confirmation(code="123456", minutes=15, link_days=7)


@pytest.mark.parametrize(
    ("text", "kind"), [("please delete my data", "erasure"), ("export my data", "export")]
)
async def test_a_data_request_only_asks_for_its_code(text: str, kind: str) -> None:
    """On a channel that vouches for the customer, a request is answered with what it means
    and the code to confirm it, without the model; nothing is done yet."""
    fake = model("unused")
    outcome = await make_flow(fake).run(message(text, confirmation=VERIFIED))
    assert (outcome.kind, outcome.intent, outcome.data_request) == ("reply", "data_request", kind)
    assert "reply with the code 123456 within 15 minutes" in outcome.text
    assert fake.prompts == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("please delete my data", "unverified_erasure_request"),
        ("export my data", "unverified_export_request"),
    ],
)
async def test_a_data_request_without_a_verified_identity_goes_to_a_person(
    text: str, reason: str
) -> None:
    """Where the channel cannot vouch for who writes, there is no code: a person takes it."""
    outcome = await make_flow(None).run(message(text))
    assert (outcome.kind, outcome.reason) == ("handoff", reason)
    assert "123456" not in outcome.text


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("Please do NOT delete my data, I want to keep my order history.", "erasure"),
        ("will you delete my data if I cancel?", "erasure"),
        ("how do I get a copy of my data?", "export"),
        ("how do I unsubscribe?", "opt_out"),
    ],
)
async def test_questions_and_negations_get_an_explanation(text: str, topic: str) -> None:
    """No request, no consent change: how it works, from the privacy answers."""
    outcome = await make_flow(model("unused")).run(message(text, confirmation=VERIFIED))
    assert outcome == FlowOutcome("reply", DATA_INFO_REPLIES[topic], "data_question")


# --- the consent gate --------------------------------------------------------------------


async def test_withdrawn_communication_consent_hands_off_silently() -> None:
    """Without communication consent the bot does not write, whatever was asked."""
    fake = model("unused")
    outcome = await make_flow(fake).run(message(DELIVERY_QUESTION, communication_consent=False))
    assert outcome == FlowOutcome("handoff", "", "order_status", reason="consent_withdrawn")
    assert fake.prompts == []


@pytest.mark.parametrize(
    ("text", "consent", "data"),
    [("STOP", "marketing", None), ("delete my data", None, "erasure")],
)
async def test_requests_behind_the_consent_gate_are_still_recorded(
    text: str, consent: str | None, data: str | None
) -> None:
    """An opt-out or data request after consent was withdrawn is recorded, silently."""
    outcome = await make_flow(None).run(message(text, communication_consent=False))
    assert (outcome.kind, outcome.text, outcome.reason) == ("handoff", "", "consent_withdrawn")
    assert (outcome.consent_withdrawn, outcome.data_request) == (consent, data)


# --- the offline responder's text --------------------------------------------------------


def test_offline_answers_are_trimmed_at_a_sentence() -> None:
    """A long passage is cut after its last whole sentence within the limit."""
    text = "First sentence here. " * 50
    answer = offline_answer([Passage("d", "Title", text, 1.0)], max_chars=100)
    body = answer.split("\n\n", 1)[1]
    assert len(body) <= 100
    assert body.endswith(".")


def test_trim_falls_back_to_a_word_boundary() -> None:
    """Text without sentence ends is cut between words, with an ellipsis."""
    assert trim("word " * 40, 23) == "word word word word…"
    assert trim("short", 23) == "short"
