"""From a flow outcome to the events that carry it out, and from a data request confirmed
in the chat to the erasure or export it asks for. Pure.

Every id is derived from the customer message's event id, so running the flow again on the
same message (after a crash, a rebalance or a replay) yields the same action ids, and the
outbound sinks' delivery log turns the repeat into a no-op.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schemas.events import (
    ChatReplyTo,
    ConsentChanged,
    ConsentChangedData,
    DataRequestClosed,
    DataRequestClosedData,
    DataRequestDecision,
    DataRequestKind,
    DataRequestOpened,
    DataRequestOpenedData,
    ErasureRequested,
    ErasureRequestedData,
    Event,
    ExportRequested,
    ExportRequestedData,
    HandoffRequested,
    HandoffRequestedData,
    MessageReceived,
    Personal,
    ReplyRequested,
    ReplyRequestedData,
    plain,
)
from streams.conversation.data_requests import PendingRequest
from streams.erasure.plan import CHAT_REASON, CHAT_REQUESTER
from streams.flow.graph import FlowOutcome


def _recipient(message: MessageReceived, text: str) -> Personal:
    """The reply text, and for channels addressed by number, whom to send it to."""
    personal = plain(message.data.personal)
    return Personal(text=text, phone=personal.phone, user_id=personal.user_id)


def _common(message: MessageReceived, now: datetime) -> dict[str, Any]:
    return {
        "source": "switchboard",
        "time": now,
        "subject": message.subject,
        "correlation_id": message.correlation_id,
    }


def _where(message: MessageReceived) -> dict[str, Any]:
    """The conversation a chat data request belongs to, and whose it is."""
    data = message.data
    return {
        "channel": data.channel,
        "source": message.source,
        "contact_id": data.contact_id,
        "route": data.route,
    }


def actions_for(message: MessageReceived, outcome: FlowOutcome, now: datetime) -> list[Event]:
    """The reply or hand-off, then any consent change the message carried. (A data request
    is not acted on here: see `request_opened` and `request_closed`.)"""
    data = message.data
    common = _common(message, now)
    action: Event
    if outcome.kind == "reply":
        action = ReplyRequested(
            id=f"reply:{message.id}",
            **common,
            data=ReplyRequestedData(
                channel=data.channel,
                source=message.source,
                contact_id=data.contact_id,
                route=data.route,
                in_reply_to=message.id,
                intent=outcome.intent or "other",
                personal=_recipient(message, outcome.text),
            ),
        )
    else:
        action = HandoffRequested(
            id=f"handoff:{message.id}",
            **common,
            data=HandoffRequestedData(
                channel=data.channel,
                source=message.source,
                contact_id=data.contact_id,
                route=data.route,
                in_reply_to=message.id,
                reason=outcome.reason or "flow_error",
                intent=outcome.intent,
                personal=_recipient(message, outcome.text),
            ),
        )
    events: list[Event] = [action]
    contact = {**common, "subject": data.contact_id}
    if outcome.consent_withdrawn is not None:
        events.append(
            ConsentChanged(
                id=f"consent:{message.id}",
                **contact,
                data=ConsentChangedData(
                    contact_id=data.contact_id,
                    consent_type=outcome.consent_withdrawn,
                    granted=False,
                    reason="chat:opt_out",
                    origin="flow",
                ),
            )
        )
    return events


def request_opened(
    message: MessageReceived, pending: PendingRequest, now: datetime
) -> DataRequestOpened:
    """The customer was asked to confirm the request this message made."""
    return DataRequestOpened(
        id=f"data-request-opened:{pending.request_id}",
        **_common(message, now),
        data=DataRequestOpenedData(
            **_where(message),
            kind=pending.kind,
            request_id=pending.request_id,
            expires_at=datetime.fromtimestamp(pending.expires_at, UTC),
        ),
    )


def request_closed(
    message: MessageReceived,
    kind: DataRequestKind,
    request_id: str,
    decision: DataRequestDecision,
    *,
    now: datetime,
    reference: str | None = None,
) -> DataRequestClosed:
    """How the request ``request_id`` ended, decided by ``message``. A confirmed one names
    the recipient, for an export's link."""
    data = message.data
    recipient = plain(data.personal) if decision == "confirmed" else Personal()
    return DataRequestClosed(
        id=f"data-request-closed:{request_id}",
        **_common(message, now),
        data=DataRequestClosedData(
            **_where(message),
            kind=kind,
            request_id=request_id,
            in_reply_to=message.id,
            decision=decision,
            reference=reference,
            personal=Personal(phone=recipient.phone, user_id=recipient.user_id),
        ),
    )


def confirmed_request(closed: DataRequestClosed) -> ErasureRequested | ExportRequested | None:
    """What a request confirmed in the chat asks for, on the contact's own topic; its id
    comes from the request, so handling the confirmation twice asks once."""
    data = closed.data
    if data.decision != "confirmed" or data.reference is None:
        return None
    common = {
        "id": f"chat-{data.kind}:{data.request_id}",
        "source": "switchboard",
        "time": closed.time,
        "subject": data.contact_id,
        "correlation_id": closed.correlation_id,
    }
    if data.kind == "erasure":
        return ErasureRequested(
            **common,
            data=ErasureRequestedData(
                contact_id=data.contact_id,
                deletion_id=data.reference,
                reason=CHAT_REASON,
                requested_by=CHAT_REQUESTER,
            ),
        )
    return ExportRequested(
        **common,
        data=ExportRequestedData(
            contact_id=data.contact_id,
            export_id=data.reference,
            requested_by=CHAT_REQUESTER,
            reply_to=ChatReplyTo(
                channel=data.channel,
                source=data.source,
                route=data.route,
                conversation_key=closed.subject,
                in_reply_to=data.in_reply_to,
            ),
            personal=data.personal,
        ),
    )


def handoff_after_refusal(reply: ReplyRequested, now: datetime) -> HandoffRequested:
    """A reply the provider refused for good: a person takes the conversation instead."""
    data = reply.data
    recipient = plain(data.personal)
    return HandoffRequested(
        id=f"handoff:{data.in_reply_to}",
        source="switchboard",
        time=now,
        subject=reply.subject,
        correlation_id=reply.correlation_id,
        data=HandoffRequestedData(
            channel=data.channel,
            source=data.source,
            contact_id=data.contact_id,
            route=data.route,
            in_reply_to=data.in_reply_to,
            reason="delivery_refused",
            intent=data.intent,
            # Whatever refused the reply would refuse a notice too: hand off silently.
            personal=Personal(phone=recipient.phone, user_id=recipient.user_id),
        ),
    )
