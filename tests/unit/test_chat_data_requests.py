"""Data requests made in the chat, through the real flow and the conversation agent: nothing
is requested until the customer confirms with the right code, in time, in the same
conversation, on a channel that vouches for who they are."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from schemas.events import (
    DataRequestClosed,
    DataRequestOpened,
    ErasureRequested,
    Event,
    ExportRequested,
    HandoffRequested,
    ReplyRequested,
)
from streams.conversation.actions import confirmed_request
from streams.conversation.data_requests import (
    ConfirmationCodes,
    PendingRequest,
    may_confirm_in_chat,
    reference,
    settle,
)
from streams.erasure.plan import chat_deletion_id
from streams.flow.texts import DATA_INFO_REPLIES
from streams.replay.hooks import ReplayGuard
from tests.fakes.conversation_agent import (
    CODES,
    Desk,
    Suppressions,
    reply_text,
)
from tests.fakes.conversation_events import T0, message


def confirmed(events: list[Event]) -> list[ErasureRequested | ExportRequested]:
    return [
        request
        for e in events
        if isinstance(e, DataRequestClosed) and (request := confirmed_request(e)) is not None
    ]


def closed(events: list[Event]) -> DataRequestClosed:
    (found,) = [e for e in events if isinstance(e, DataRequestClosed)]
    return found


async def test_a_request_only_asks_for_confirmation() -> None:
    """'Delete my data' on WhatsApp: the bot says what it means and sends a code; nothing is
    requested, and the request waits in the conversation's state."""
    desk = Desk()
    events = await desk.says("Please delete my data")
    text = reply_text(events)
    assert CODES.code("m1") in text
    assert "cannot be undone" in text
    assert [type(e) for e in events] == [ReplyRequested, DataRequestOpened]
    assert desk.state().pending == PendingRequest(
        kind="erasure", request_id="m1", expires_at=message(1).time.timestamp() + 15 * 60
    )


async def test_the_right_code_in_time_confirms_the_erasure_after_the_last_reply() -> None:
    """The code within 15 minutes: the customer is told the reference first, then the
    confirmed request becomes one erasure requested by the chat."""
    desk = Desk()
    await desk.says("delete my data")
    events = await desk.says(f"Yes {CODES.code('m1')}", minutes_later=14)
    assert [type(e) for e in events] == [ReplyRequested, DataRequestClosed]
    assert chat_deletion_id("m1") in reply_text(events)
    (erasure,) = confirmed(events)
    assert isinstance(erasure, ErasureRequested)
    assert erasure.data.deletion_id == chat_deletion_id("m1")
    assert erasure.data.requested_by == "customer-chat"
    assert desk.state().pending is None


async def test_an_export_confirmed_names_where_to_send_the_link() -> None:
    """A confirmed export asks for the export with this conversation and recipient."""
    desk = Desk()
    await desk.says("Can I get a copy of my personal data?")
    (export,) = confirmed(await desk.says(CODES.code("m1")))
    assert isinstance(export, ExportRequested)
    assert export.data.export_id == reference("export", "m1")
    assert export.data.reply_to is not None
    assert export.data.reply_to.conversation_key == "cv_1"
    assert export.data.reply_to.in_reply_to == "m2"


async def test_a_wrong_code_cancels_and_requests_nothing() -> None:
    """Another six-digit number: cancelled, said so, no erasure."""
    desk = Desk()
    await desk.says("delete my data")
    wrong = f"{(int(CODES.code('m1')) + 1) % 10**6:06d}"
    events = await desk.says(wrong)
    assert closed(events).data.decision == "wrong_code"
    assert "nothing has been deleted" in reply_text(events)
    assert confirmed(events) == []
    # The right code afterwards is too late: the request is gone.
    assert confirmed(await desk.says(CODES.code("m1"))) == []


async def test_a_late_code_confirms_nothing() -> None:
    """The right code after the time limit: expired, nothing requested."""
    desk = Desk()
    await desk.says("delete my data")
    events = await desk.says(CODES.code("m1"), minutes_later=16)
    assert closed(events).data.decision == "expired"
    assert "ran out" in reply_text(events)
    assert confirmed(events) == []


async def test_any_other_reply_cancels_and_is_answered() -> None:
    """A question instead of the code: the request is declined, the question answered."""
    desk = Desk()
    await desk.says("delete my data")
    events = await desk.says("How long does delivery take?")
    assert closed(events).data.decision == "declined"
    text = reply_text(events)
    assert text.startswith("I've cancelled your request to delete your data")
    assert "two to three working days" in text
    assert confirmed(events) == []


async def test_the_code_and_a_no_is_not_a_yes() -> None:
    """'No, don't, 123456': declined."""
    desk = Desk()
    await desk.says("delete my data")
    events = await desk.says(f"no don't {CODES.code('m1')}")
    assert closed(events).data.decision == "declined"
    assert confirmed(events) == []


async def test_a_code_in_another_conversation_confirms_nothing() -> None:
    """The pending request belongs to its conversation: the code elsewhere is just a
    message there, and the request still waits where it was made."""
    desk = Desk()
    await desk.says("delete my data", conversation="cv_1")
    events = await desk.says(CODES.code("m1"), conversation="cv_2")
    assert not any(isinstance(e, DataRequestClosed) for e in events)
    assert desk.state("cv_1").pending is not None


async def test_an_unverified_channel_hands_the_request_to_a_person() -> None:
    """Chatwoot cannot vouch for who writes: no code, a hand-off with the reason, nothing
    pending."""
    desk = Desk()
    events = await desk.says("delete my data", whatsapp=False)
    (handoff,) = [e for e in events if isinstance(e, HandoffRequested)]
    assert handoff.data.reason == "unverified_erasure_request"
    assert closed(events).data.decision == "handed_off"
    assert confirmed(events) == []
    assert desk.state().pending is None
    assert not may_confirm_in_chat("chatwoot")


async def test_negations_and_questions_get_an_explanation_and_nothing_else() -> None:
    """The sentences that used to erase people: an explanation, no request of any kind."""
    for text in (
        "Please do NOT delete my data, I want to keep my order history.",
        "don't delete my data!",
        "will you delete my data if I cancel?",
        "how do I delete my account data?",
    ):
        desk = Desk()
        events = await desk.says(text)
        assert [type(e) for e in events] == [ReplyRequested], text
        assert reply_text(events) == DATA_INFO_REPLIES["erasure"], text
        assert desk.state().pending is None


async def test_handling_the_confirmation_again_asks_for_the_same_erasure() -> None:
    """A crash before the state write: the confirmation runs again with the same ids."""
    first, second = Desk(), Desk()
    for desk in (first, second):
        await desk.says("delete my data")
    once = confirmed(await first.says(CODES.code("m1")))
    again = confirmed(await second.says(CODES.code("m1")))
    assert [e.id for e in once] == [e.id for e in again]
    assert once[0].data == again[0].data


async def test_the_code_is_not_on_the_log_outside_sealed_text() -> None:
    """Only the reply's personal text and the conversation's turns, both sealed on the log,
    carry the code: not the events' other fields, nor the pending request."""
    desk = Desk()
    events = await desk.says("delete my data")
    events += await desk.says(CODES.code("m1"))
    code = CODES.code("m1")
    for event in events:
        outside = event.model_dump_json(exclude={"data": {"personal"}})
        assert code not in outside
    assert code not in desk.state().model_dump_json(exclude={"turns"})


@given(st.text(max_size=40))
def test_only_the_code_itself_confirms(text: str) -> None:
    """Whatever else a customer writes in time, it is not a confirmation."""
    pending = PendingRequest(kind="erasure", request_id="m1", expires_at=T0 + 900)
    code = CODES.code("m1")
    decision = settle(pending, text, T0, code).decision
    assert decision != "confirmed" or code in text


def test_codes_differ_per_request_and_per_key() -> None:
    """A code says nothing about another request's, or another deployment's."""
    assert CODES.code("m1") != CODES.code("m2")
    assert ConfirmationCodes(b"other").code("m1") != CODES.code("m1")
    assert len(CODES.code("m1")) == 6
    assert CODES.code("m1").isdigit()


async def test_a_replay_of_a_confirmed_request_asks_for_nothing() -> None:
    """A replayed confirmation (marked `replay: 1`) is held back by the deliver agent's guard,
    so no erasure or export is asked for again; resent on purpose (`replay: resend`), it asks
    for the same deletion, which the eraser already holds as done."""
    desk = Desk()
    await desk.says("delete my data")
    (closing,) = [e for e in await desk.says(CODES.code("m1")) if isinstance(e, DataRequestClosed)]
    guard = ReplayGuard(Suppressions())
    assert await guard.holds_back(closing, {"replay": b"1"})
    assert not await guard.holds_back(closing, {"replay": b"resend"})
    again = confirmed_request(closing)
    assert isinstance(again, ErasureRequested)
    assert again.data.deletion_id == chat_deletion_id("m1")  # hence one deletion, not two
