"""Replay marks on re-published records, their way through the worker's hooks, the erasure
filter and what the command prints."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from schemas.events import Event, encode
from streams.conversation.agent import Conversations
from streams.flow.graph import FlowOutcome
from streams.replay.erased import ErasureFilter, erased_contacts
from streams.replay.hooks import MarkedActions, ReplayGuard
from streams.replay.marks import replay_mark, republished_headers
from streams.replay.plan import LogBounds, build_request, make_plan
from streams.replay.report import Tally, headline, progress_bar, render_plan, summary
from tests.fakes.conversation_agent import REQUESTS, ScriptedFlow, Suppressions
from tests.fakes.conversation_events import T0, message, status
from tests.fakes.outbound_actions import reply

ORIGINAL = [("type", b"message.received"), ("correlation-id", b"c")]


def test_republished_headers_keep_the_original_and_add_the_marks() -> None:
    """Same headers, plus where the copy came from and that it is a replay."""
    headers = republished_headers(ORIGINAL, "sb.inbound.v1", 3, 41, resend=False)
    assert headers == [*ORIGINAL, ("replayed-from", b"sb.inbound.v1/3/41"), ("replay", b"1")]
    assert replay_mark(headers) == "suppress"
    assert replay_mark(republished_headers(ORIGINAL, "t", 0, 0, resend=True)) == "resend"


def test_a_replay_of_a_replay_carries_one_set_of_marks() -> None:
    """Earlier marks are replaced, not stacked (a resend does not stay behind a suppress)."""
    first = republished_headers(ORIGINAL, "t", 0, 5, resend=False)
    second = republished_headers(first, "t", 0, 90, resend=True)
    assert [k for k, _ in second].count("replay") == 1
    assert ("replayed-from", b"t/0/90") in second
    assert replay_mark(second) == "resend"


@given(st.binary(max_size=10).filter(lambda v: v != b"resend"))
def test_any_other_mark_suppresses(value: bytes) -> None:
    """When in doubt the customer hears nothing; unmarked records are not replays."""
    assert replay_mark({"replay": value}) == "suppress"
    assert replay_mark([("type", b"x")]) is None
    assert replay_mark(None) is None


class HeaderLog:
    def __init__(self) -> None:
        self.sent: list[tuple[str, list[tuple[str, bytes]]]] = []

    async def emit(
        self, events: Sequence[Event], headers: Sequence[tuple[str, bytes]] = ()
    ) -> None:
        self.sent.extend((event.id, list(headers)) for event in events)


async def test_actions_of_a_replayed_message_carry_its_mark() -> None:
    """The conversation's actions for a replayed record are marked; for a live one, not."""
    log = HeaderLog()
    marked = MarkedActions(log)
    agent = Conversations(
        {}, ScriptedFlow(FlowOutcome("reply", "Hi", intent=None)), marked, requests=REQUESTS
    )
    marked.follow({"replay": b"1", "replayed-from": b"sb.inbound.v1/0/7"})
    await agent.handle(message(1))
    marked.follow({"type": b"message.received"})
    await agent.handle(message(2))
    assert log.sent == [
        ("reply:m1", [("replay", b"1"), ("replayed-from", b"sb.inbound.v1/0/7")]),
        ("reply:m2", []),
    ]


async def test_the_guard_holds_back_suppressed_replays_only() -> None:
    """`replay: 1` is recorded and held back; `replay: resend` and live actions go on."""
    rows = Suppressions()
    guard = ReplayGuard(rows)
    action = reply(action_id="reply:m1")
    assert await guard.holds_back(action, {"replay": b"1", "replayed-from": b"t/0/1"})
    assert not await guard.holds_back(action, {"replay": b"resend"})
    assert not await guard.holds_back(action, {"type": b"reply.requested"})
    assert rows.rows == [("reply:m1", "reply.requested", "t/0/1")]


def test_erasure_filter() -> None:
    """An erased contact's messages are held back, and so are later status changes of the
    conversations they were in; other contacts' events pass; unreadable ones are held."""
    erased = ErasureFilter.from_contacts(erased_contacts([(b"ct_1", b"{}"), (None, b"{}")]))
    assert erased.verdict(encode(status(1, "open"))) == "keep"  # not yet tied to ct_1
    assert erased.verdict(encode(message(1))) == "erased"
    assert erased.verdict(encode(status(2, "open"))) == "erased"
    assert erased.verdict(b"not an event") == "unreadable"
    assert erased.verdict(None) == "unreadable"
    assert ErasureFilter.from_contacts(["ct_2"]).verdict(encode(message(1))) == "keep"


def test_progress_bar() -> None:
    """Filled in proportion, with counts and percent; an empty range is complete."""
    assert progress_bar(0, 10, width=10) == "[..........]  0/10   0%"
    assert progress_bar(5, 10, width=10) == "[#####.....]  5/10  50%"
    assert progress_bar(0, 0, width=4) == "[####] 0/0 100%"


def test_plan_and_summary_text() -> None:
    """Per-partition rows and totals; the summary counts erased records apart."""
    request = build_request(
        topic="inbound.v1",
        prefix="sb.",
        worker_group="w",
        from_time=datetime.fromtimestamp(T0, UTC).isoformat(),
        republish=True,
    )
    plan = make_plan(request, {0: LogBounds(0, 10, 4), 1: LogBounds(0, 3)})
    table = render_plan(plan).splitlines()
    assert table[1].split() == ["0", "4", "10", "6"]
    assert table[2].split() == ["1", "3", "3", "0"]
    assert table[-1].split() == ["total", "6"]
    assert "sending nothing to customers" in headline(plan, dry_run=True)
    with_group = render_plan(plan, {0: 2}).splitlines()
    assert with_group[0].split() == ["PARTITION", "CURRENT", "FROM", "TO", "COUNT"]
    assert with_group[1].split() == ["0", "2", "4", "10", "6"]
    assert with_group[2].split() == ["1", "-", "3", "3", "0"]
    text = summary(plan, Tally(republished=4, erased=2))
    assert "records in range: 6" in text
    assert "skipped (erased): 2" in text
    assert "replies: suppressed" in text


async def test_a_replay_groups_actions_are_all_marked() -> None:
    """In a group a replay seeded, every action is a replay's, unless its record says how."""
    log = HeaderLog()
    marked = MarkedActions(log, group_mark="suppress")
    agent = Conversations(
        {}, ScriptedFlow(FlowOutcome("reply", "Hi", intent=None)), marked, requests=REQUESTS
    )
    marked.follow({"type": b"message.received"})
    await agent.handle(message(1))
    marked.follow({"replay": b"resend"})
    await agent.handle(message(2))
    assert log.sent == [("reply:m1", [("replay", b"1")]), ("reply:m2", [("replay", b"resend")])]


async def test_a_replay_group_leaves_live_actions_alone() -> None:
    """A worker in a replay group delivers none of the live pipeline's actions (its live
    worker does) and records none of them as suppressed; its own resend replays go out."""
    rows = Suppressions()
    guard = ReplayGuard(rows, replay_group=True)
    action = reply(action_id="reply:m1")
    assert await guard.holds_back(action, {"type": b"reply.requested"})
    assert not await guard.holds_back(action, {"replay": b"resend"})
    assert await guard.holds_back(action, {"replay": b"1"})
    assert rows.rows == [("reply:m1", "reply.requested", None)]
