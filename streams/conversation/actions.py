"""From a flow outcome to the events that carry it out. Pure.

Every id is derived from the customer message's event id, so running the flow again on the
same message (after a crash, a rebalance or a replay) yields the same action ids, and the
outbound sinks' delivery log turns the repeat into a no-op.
"""

from __future__ import annotations

from datetime import datetime

from schemas.events import (
    ConsentChanged,
    ConsentChangedData,
    DataRequested,
    DataRequestedData,
    Event,
    HandoffRequested,
    HandoffRequestedData,
    MessageReceived,
    Personal,
    ReplyRequested,
    ReplyRequestedData,
    plain,
)
from streams.flow.graph import FlowOutcome


def _recipient(message: MessageReceived, text: str) -> Personal:
    """The reply text, and for channels addressed by number, whom to send it to."""
    personal = plain(message.data.personal)
    return Personal(text=text, phone=personal.phone, user_id=personal.user_id)


def actions_for(message: MessageReceived, outcome: FlowOutcome, now: datetime) -> list[Event]:
    """The reply or hand-off, then any consent or data request the message carried."""
    data = message.data
    common = {
        "source": "switchboard",
        "time": now,
        "subject": message.subject,
        "correlation_id": message.correlation_id,
    }
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
    if outcome.data_request is not None:
        events.append(
            DataRequested(
                id=f"data-request:{message.id}",
                **contact,
                data=DataRequestedData(
                    contact_id=data.contact_id,
                    kind=outcome.data_request,
                    conversation_key=message.subject,
                    in_reply_to=message.id,
                ),
            )
        )
    return events


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
