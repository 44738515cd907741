"""Every text the bot sends a customer, with the behaviour that keeps its promise. A text in
`streams.flow.texts` without a row here fails the first test."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import pytest

from schemas.events import (
    ChatReplyTo,
    ConsentChanged,
    DataRequestClosed,
    DataRequestOpened,
    ErasureRequested,
    ExportRequested,
    HandoffReason,
    HandoffRequested,
    Personal,
    ReplyRequested,
    WhatsAppRoute,
)
from sinks.export import links
from sinks.outbound.requests import HANDOFF_REASON_TEXT
from streams.conversation.actions import confirmed_request
from streams.exports.agent import LinkSigner
from streams.exports.requests import ExportRequest, failure_handoff, link_reply
from streams.flow import texts
from tests.fakes.conversation_agent import CODES, Desk, reply_text
from tests.fakes.conversation_events import WHEN
from tests.fakes.flow import make_flow
from tests.fakes.flow import message as flow_message

ROOT = Path(__file__).resolve().parents[2]
Check = Callable[[], Awaitable[None]]


async def _greeting() -> None:
    events = await Desk().says("hello")
    assert reply_text(events) == texts.GREETING_REPLY
    assert [type(e) for e in events] == [ReplyRequested]


async def _thanks() -> None:
    assert reply_text(await Desk().says("thanks")) == texts.THANKS_REPLY


async def _opt_out() -> None:
    # "you won't receive marketing messages": the withdrawal goes out with the reply.
    events = await Desk().says("STOP")
    assert reply_text(events) == texts.OPT_OUT_REPLY
    (consent,) = [e for e in events if isinstance(e, ConsentChanged)]
    assert (consent.data.consent_type, consent.data.granted) == ("marketing", False)


async def _already_opted_out() -> None:
    # Said only when the contact's marketing consent is already withdrawn; recorded again.
    outcome = await make_flow(None).run(flow_message("STOP", marketing_consent=False))
    assert outcome.text == texts.ALREADY_OPTED_OUT_REPLY
    assert outcome.consent_withdrawn == "marketing"


async def _handoffs() -> None:
    # "a colleague will…": every hand-off opens the conversation to the agents with a note
    # naming why (sinks/outbound/requests.py), and the bot stays silent after it.
    assert set(HANDOFF_REASON_TEXT) == set(get_args(HandoffReason))
    desk = Desk()
    events = await desk.says("I want to talk to a human")
    assert isinstance(events[0], HandoffRequested)
    assert reply_text(events) == texts.HANDOFF_REPLIES["human_request"]
    assert await desk.says("hello?") == []


async def _default_handoff() -> None:
    assert texts.handoff_text("flow_error") == texts.DEFAULT_HANDOFF_REPLY


async def _data_info() -> None:
    # "Nothing has been deleted / requested / changed": nothing but the reply goes out.
    for text, topic in (
        ("don't delete my data", "erasure"),
        ("how can I download my data?", "export"),
        ("how do I unsubscribe?", "opt_out"),
    ):
        events = await Desk().says(text)
        assert [type(e) for e in events] == [ReplyRequested], text
        assert reply_text(events) == texts.DATA_INFO_REPLIES[topic], text
    # The help article the answers point to exists.
    assert any(texts.PRIVACY_ARTICLE.strip("“”") in p.read_text() for p in ROOT.glob("kb/*.md"))


async def _erasure_prompt() -> None:
    # "reply with the code within 15 minutes; any other reply cancels": a pending request
    # that only that code, in time, confirms (test_chat_data_requests.py).
    events = await Desk().says("delete my data")
    assert reply_text(events) == texts.erasure_prompt(CODES.code("m1"), 15)
    opened = events[1]
    assert isinstance(opened, DataRequestOpened)
    assert opened.data.expires_at == WHEN + timedelta(minutes=15)


async def _export_prompt() -> None:
    # "a download link to this chat … for 7 days": the link's expiry is the export's.
    events = await Desk().says("export my data")
    assert reply_text(events) == texts.export_prompt(CODES.code("m1"), 15, 7)


async def _confirmed(ask: str) -> list[Any]:
    desk = Desk()
    await desk.says(ask)
    events = await desk.says(CODES.code("m1"))
    (closing,) = [e for e in events if isinstance(e, DataRequestClosed)]
    # The reply comes before the request on the same conversation, so the deliver agent
    # sends it first (streams/delivery.py).
    assert events.index(closing) > 0
    return [reply_text(events), confirmed_request(closing)]


async def _erasure_confirmed() -> None:
    text, request = await _confirmed("delete my data")
    assert isinstance(request, ErasureRequested)
    assert text == texts.erasure_confirmed(request.data.deletion_id)


async def _export_confirmed() -> None:
    text, request = await _confirmed("export my data")
    assert isinstance(request, ExportRequested)
    assert request.data.reply_to is not None  # "I'll send the download link here"
    assert text == texts.export_confirmed(request.data.export_id)


def _request() -> tuple[ExportRequest, ChatReplyTo]:
    at = datetime(2026, 12, 7, tzinfo=UTC)
    reply_to = ChatReplyTo(
        channel="whatsapp",
        source="whatsapp-cloud",
        route=WhatsAppRoute(phone_number_id="1"),
        conversation_key="cv_1",
        in_reply_to="m2",
    )
    request = ExportRequest(
        "ex_1", "ct_1", "customer-chat", at, at + timedelta(days=7), reply_to, Personal()
    )
    return request, reply_to


async def _export_ready() -> None:
    # "works until …": the link verifies until exactly then, and not after.
    request, reply_to = _request()
    signer = LinkSigner("https://shop.example", b"k")
    url = signer.url("ex_1", request.expires_at)
    reply = link_reply(request, reply_to, url, request.expires_at)
    assert reply.id == "export-link:ex_1"  # one id: the delivery log sends it once
    text = reply.data.personal.text  # type: ignore[union-attr]
    assert text == texts.export_ready(url, request.expires_at)
    query = dict(part.split("=") for part in url.split("?")[1].split("&"))
    before = request.expires_at - timedelta(seconds=1)
    links.verify(b"k", "ex_1", query["expires"], query["signature"], before)
    with pytest.raises(links.LinkExpired):
        links.verify(b"k", "ex_1", query["expires"], query["signature"], request.expires_at)


async def _export_failed() -> None:
    request, reply_to = _request()
    handoff = failure_handoff(request, reply_to)
    assert handoff.data.reason == "export_failed"
    assert handoff.data.personal.text == texts.HANDOFF_REPLIES["export_failed"]  # type: ignore[union-attr]


async def _wrong_code() -> None:
    desk = Desk()
    await desk.says("delete my data")
    events = await desk.says("000000" if CODES.code("m1") != "000000" else "111111")
    assert reply_text(events) == texts.wrong_code("erasure")
    assert all(confirmed_request(e) is None for e in events if isinstance(e, DataRequestClosed))


async def _code_expired() -> None:
    desk = Desk()
    await desk.says("delete my data")
    events = await desk.says(CODES.code("m1"), minutes_later=20)
    assert reply_text(events) == texts.code_expired("erasure")
    assert all(confirmed_request(e) is None for e in events if isinstance(e, DataRequestClosed))


async def _request_cancelled() -> None:
    desk = Desk()
    await desk.says("export my data")
    events = await desk.says("hello")
    assert reply_text(events).startswith(texts.request_cancelled("export"))
    assert all(confirmed_request(e) is None for e in events if isinstance(e, DataRequestClosed))


BEHIND: dict[str, Check] = {
    "GREETING_REPLY": _greeting,
    "THANKS_REPLY": _thanks,
    "OPT_OUT_REPLY": _opt_out,
    "ALREADY_OPTED_OUT_REPLY": _already_opted_out,
    "HANDOFF_REPLIES": _handoffs,
    "DEFAULT_HANDOFF_REPLY": _default_handoff,
    "handoff_text": _default_handoff,
    "DATA_INFO_REPLIES": _data_info,
    "PRIVACY_ARTICLE": _data_info,
    "erasure_prompt": _erasure_prompt,
    "export_prompt": _export_prompt,
    "erasure_confirmed": _erasure_confirmed,
    "export_confirmed": _export_confirmed,
    "export_ready": _export_ready,
    "wrong_code": _wrong_code,
    "code_expired": _code_expired,
    "request_cancelled": _request_cancelled,
}


def test_every_customer_text_has_its_behaviour_listed() -> None:
    """Each public text or text-making function of streams.flow.texts is in the table."""
    public = {
        name
        for name, value in vars(texts).items()
        if not name.startswith("_")
        and getattr(value, "__module__", texts.__name__) == texts.__name__
        and (isinstance(value, str | dict) or inspect.isfunction(value) or name.isupper())
    }
    assert public == set(BEHIND)


@pytest.mark.parametrize("name", sorted(BEHIND))
async def test_the_promise_is_kept(name: str) -> None:
    """What the text promises is what the code does."""
    await BEHIND[name]()
