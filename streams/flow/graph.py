"""The conversation flow as a LangGraph graph: one customer message in, one outcome out.

    consent_gate ─┬─ withdrawn ───────────────────────────► handoff (silent; requests kept)
                  └─ intent ─┬─ greeting ─────────────────────────────────► greet
                             ├─ complaint, human_request ─────────────────► handoff
                             ├─ opt_out ──────────────────────────────────► opt_out
                             ├─ data_request (confirm, or a person) ──────► data_request
                             ├─ data_question (questions, negations) ─────► data_info
                             └─ question, order_status, other ─► retrieve
      retrieve ─┬─ a passage scores at least min_score ─► generate ─► guard
                └─ nothing relevant ────────────────────────────────► guard
      guard ─┬─ low confidence, empty or overlong answer, model error ─► handoff
             └─ otherwise ─────────────────────────────────────────────► reply

Every path ends in exactly one node that writes ``outcome``. Nodes are small functions over
the state; the only I/O is the retriever and the injected ``Answer`` callable. Opt-out and
data-protection requests never reach the model, and none is acted on here: an erasure or an
export only asks the customer to confirm (`streams.conversation.data_requests` keeps the
pending request). Pure: no Kafka, no database driver. What the customer is told is in
`streams.flow.texts`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, NotRequired, Protocol, TypedDict, TypeVar

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from schemas.events import Channel, ConsentType, DataRequestKind, HandoffReason, Intent
from schemas.knowledge import Passage, Retriever
from streams.flow.data_asks import read_data_ask
from streams.flow.intent import classify, data_request_kind, is_thanks
from streams.flow.texts import (
    ALREADY_OPTED_OUT_REPLY,
    DATA_INFO_REPLIES,
    DEFAULT_HANDOFF_REPLY,
    GREETING_REPLY,
    OPT_OUT_REPLY,
    THANKS_REPLY,
    erasure_prompt,
    export_prompt,
    handoff_text,
)

Role = Literal["customer", "bot", "agent"]
Turn = tuple[Role, str]

MAX_ANSWER_CHARS = 1000
OFFLINE_ANSWER_CHARS = 700
RETRIEVAL_LIMIT = 4


@dataclass(frozen=True)
class Confirmation:
    """How a data request made in this message would be confirmed: the one-time code the
    customer is to send back, within ``minutes``; an export link lasts ``link_days``."""

    code: str
    minutes: int
    link_days: int


@dataclass(frozen=True)
class FlowInput:
    """One customer message with what the flow needs to know about its conversation.

    ``text`` is ``None`` for messages without text (media, locations…); ``history`` holds
    the turns before this message, oldest first. ``confirmation`` is set only where the
    provider vouches for who is writing (`streams.conversation.data_requests`): elsewhere a
    data request goes to a person.
    """

    event_id: str
    text: str | None
    channel: Channel
    history: tuple[Turn, ...] = ()
    communication_consent: bool = True
    marketing_consent: bool | None = None
    confirmation: Confirmation | None = None


@dataclass(frozen=True)
class FlowOutcome:
    """What the flow decided: a reply, or a hand-off to a human (``text`` may then be "").

    ``consent_withdrawn`` and ``data_request`` are set whenever the message carries such a
    request, whatever ``kind`` is: after communication consent was withdrawn the hand-off
    is silent, but the request still has to be recorded. A ``data_request`` with a reply
    asks the customer to confirm it (nothing happens yet); with a hand-off, a person takes
    it.
    """

    kind: Literal["reply", "handoff"]
    text: str
    intent: Intent | None
    reason: HandoffReason | None = None
    consent_withdrawn: ConsentType | None = None
    data_request: DataRequestKind | None = None
    passages_used: int = 0


# The model call, injected: the customer's message and the passages to ground it in, in;
# the reply text out. It raises when the model fails for good.
Answer = Callable[[FlowInput, list[Passage]], Awaitable[str]]


class FlowState(TypedDict):
    inp: FlowInput
    intent: NotRequired[Intent]
    passages: NotRequired[list[Passage]]
    draft: NotRequired[str]
    passages_used: NotRequired[int]
    model_failed: NotRequired[bool]
    reason: NotRequired[HandoffReason]
    outcome: NotRequired[FlowOutcome]


def handoff_outcome(reason: HandoffReason, intent: Intent | None) -> FlowOutcome:
    return FlowOutcome("handoff", handoff_text(reason), intent, reason=reason)


def marketing_allowed(inp: FlowInput) -> bool:
    """Whether marketing content (offers, promotions) may go into what the bot writes: only
    with an explicit marketing grant, and only while it may write to the contact at all
    (`streams.consent.state.may_send_marketing`). Nothing marketing is sent yet; whatever
    adds it must pass this gate."""
    return inp.communication_consent and inp.marketing_consent is True


# --- nodes -----------------------------------------------------------------------------


def consent_gate(state: FlowState) -> dict[str, object]:
    # The intent is still worked out, so that an opt-out or a data-protection request sent
    # after consent was withdrawn is recorded, silently.
    if not state["inp"].communication_consent:
        return {"intent": classify(state["inp"].text), "reason": "consent_withdrawn"}
    return {}


def after_consent_gate(state: FlowState) -> Literal["handoff", "intent"]:
    return "handoff" if "reason" in state else "intent"


def intent(state: FlowState) -> dict[str, object]:
    found = classify(state["inp"].text)
    if found in ("complaint", "human_request"):
        return {"intent": found, "reason": found}
    return {"intent": found}


Route = Literal["greet", "handoff", "opt_out", "data_request", "data_info", "retrieve"]
_ROUTES: dict[Intent, Route] = {
    "greeting": "greet",
    "complaint": "handoff",
    "human_request": "handoff",
    "opt_out": "opt_out",
    "data_request": "data_request",
    "data_question": "data_info",
    "question": "retrieve",
    "order_status": "retrieve",
    "other": "retrieve",
}


def after_intent(state: FlowState) -> Route:
    return _ROUTES[state["intent"]]


def after_retrieve(state: FlowState) -> Literal["generate", "guard"]:
    return "generate" if state.get("passages") else "guard"


def guard(state: FlowState, max_chars: int = MAX_ANSWER_CHARS) -> dict[str, object]:
    """Whether the drafted answer may go out; a hand-off reason when it may not."""
    draft = state.get("draft", "").strip()
    reason: HandoffReason | None = None
    if state.get("model_failed"):
        reason = "model_error"
    elif not state.get("passages"):
        reason = "low_confidence"
    elif not draft:
        reason = "empty_answer"
    elif len(draft) > max_chars:
        reason = "overlong_answer"
    return {"reason": reason} if reason else {}


def after_guard(state: FlowState) -> Literal["handoff", "reply"]:
    return "handoff" if "reason" in state else "reply"


def reply(state: FlowState) -> dict[str, object]:
    outcome = FlowOutcome(
        "reply",
        state.get("draft", "").strip(),
        state.get("intent", "other"),
        passages_used=state.get("passages_used", 0),
    )
    return {"outcome": outcome}


def greet(state: FlowState) -> dict[str, object]:
    text = THANKS_REPLY if is_thanks(state["inp"].text) else GREETING_REPLY
    return {"outcome": FlowOutcome("reply", text, "greeting")}


def handoff(state: FlowState) -> dict[str, object]:
    inp, reason, found = state["inp"], state.get("reason", "flow_error"), state.get("intent")
    text = handoff_text(reason)
    if reason == "low_confidence" and not (inp.text or "").strip():
        text = DEFAULT_HANDOFF_REPLY  # a photo or a voice note: nothing was looked up
    outcome = FlowOutcome(
        "handoff",
        text,
        found,
        reason=reason,
        consent_withdrawn="marketing" if found == "opt_out" else None,
        data_request=data_request_kind(inp.text) if found == "data_request" else None,
    )
    return {"outcome": outcome}


def opt_out(state: FlowState) -> dict[str, object]:
    # Recorded even when our copy already says "withdrawn": repeating it is harmless,
    # missing a real one is not.
    already = state["inp"].marketing_consent is False
    text = ALREADY_OPTED_OUT_REPLY if already else OPT_OUT_REPLY
    outcome = FlowOutcome("reply", text, "opt_out", consent_withdrawn="marketing")
    return {"outcome": outcome}


def data_request(state: FlowState) -> dict[str, object]:
    """Nothing is done on the request itself: the customer is told what it means and asked
    to confirm it, or, where the channel cannot vouch for them, a person takes it."""
    inp = state["inp"]
    kind = data_request_kind(inp.text)
    if inp.confirmation is None:
        reason: HandoffReason = (
            "unverified_erasure_request" if kind == "erasure" else "unverified_export_request"
        )
        outcome = FlowOutcome(
            "handoff", handoff_text(reason), "data_request", reason=reason, data_request=kind
        )
        return {"outcome": outcome}
    confirm = inp.confirmation
    text = (
        erasure_prompt(confirm.code, confirm.minutes)
        if kind == "erasure"
        else export_prompt(confirm.code, confirm.minutes, confirm.link_days)
    )
    return {"outcome": FlowOutcome("reply", text, "data_request", data_request=kind)}


def data_info(state: FlowState) -> dict[str, object]:
    """A question about the policy, or a negation ("don't delete my data"): how it works."""
    ask = read_data_ask(state["inp"].text)
    text = DATA_INFO_REPLIES[ask.topic if ask is not None else "erasure"]
    return {"outcome": FlowOutcome("reply", text, "data_question")}


# --- the offline responder -------------------------------------------------------------


def offline_answer(passages: list[Passage], max_chars: int = OFFLINE_ANSWER_CHARS) -> str:
    """The best passage, trimmed, with a short lead-in; no model involved."""
    best = passages[0]
    return f"From our help article “{best.title}”:\n\n{trim(best.text, max_chars)}"


def trim(text: str, max_chars: int) -> str:
    """At most ``max_chars``: cut after the last whole sentence, else the last whole word."""
    text = text.strip()
    if len(text) <= max_chars:
        return text
    head = text[: max_chars - 1]
    ends = [m.end() for m in re.finditer(r"[.!?](\s|$)", head)]
    if ends and ends[-1] > max_chars // 2:
        return head[: ends[-1]].rstrip()
    cut = head.rsplit(maxsplit=1)[0] if " " in head else head
    return cut.rstrip(" ,;:") + "…"


# --- the graph -------------------------------------------------------------------------

_Out_co = TypeVar("_Out_co", covariant=True)


class _Step(Protocol[_Out_co]):
    def __call__(self, state: FlowState) -> Awaitable[_Out_co]: ...


def _on_loop(step: Callable[[FlowState], _Out_co]) -> _Step[_Out_co]:
    """The same step as a coroutine. LangGraph runs plain functions in a thread pool under
    ``ainvoke``: eight thread hops a message, a third of the worker's CPU. These steps are
    microseconds of pure Python, so they run on the event loop instead."""

    async def run(state: FlowState) -> _Out_co:
        return step(state)

    run.__name__ = step.__name__
    return run


def build_graph(
    retriever: Retriever,
    answer: Answer | None,
    min_score: float,
    limit: int = RETRIEVAL_LIMIT,
) -> CompiledStateGraph[FlowState, None, FlowState, FlowState]:
    """The compiled flow; ``answer=None`` selects the offline responder."""

    async def retrieve(state: FlowState) -> dict[str, object]:
        query = (state["inp"].text or "").strip()
        found = await retriever.search(query, limit) if query else []
        return {"passages": [p for p in found if p.score >= min_score]}

    async def generate(state: FlowState) -> dict[str, object]:
        passages = state.get("passages", [])
        if answer is None:
            return {"draft": offline_answer(passages), "passages_used": 1}
        # Any model failure, once retries are spent, is a hand-off; guard decides it.
        try:
            draft = await answer(state["inp"], passages)
        except Exception:
            return {"model_failed": True}
        return {"draft": draft, "passages_used": len(passages)}

    graph = StateGraph(FlowState)
    graph.add_node("consent_gate", _on_loop(consent_gate))
    graph.add_node("intent", _on_loop(intent))
    graph.add_node("retrieve", retrieve)
    graph.add_node("generate", generate)
    graph.add_node("guard", _on_loop(guard))
    graph.add_node("reply", _on_loop(reply))
    graph.add_node("greet", _on_loop(greet))
    graph.add_node("handoff", _on_loop(handoff))
    graph.add_node("opt_out", _on_loop(opt_out))
    graph.add_node("data_request", _on_loop(data_request))
    graph.add_node("data_info", _on_loop(data_info))

    graph.add_edge(START, "consent_gate")
    graph.add_conditional_edges("consent_gate", _on_loop(after_consent_gate), ["handoff", "intent"])
    graph.add_conditional_edges(
        "intent",
        _on_loop(after_intent),
        ["greet", "handoff", "opt_out", "data_request", "data_info", "retrieve"],
    )
    graph.add_conditional_edges("retrieve", _on_loop(after_retrieve), ["generate", "guard"])
    graph.add_edge("generate", "guard")
    graph.add_conditional_edges("guard", _on_loop(after_guard), ["handoff", "reply"])
    for terminal in ("reply", "greet", "handoff", "opt_out", "data_request", "data_info"):
        graph.add_edge(terminal, END)
    return graph.compile(name="switchboard-flow")
