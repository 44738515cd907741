"""WhatsApp Cloud API webhook bodies (Meta direct, and 360dialog's Cloud API format).

One body carries up to 1000 updates across ``entry[].changes[]``: each customer message,
each status and each preference change becomes one event, with the provider's id in the
event id so a redelivered body dedupes. A contact is identified by its business-scoped
user id (BSUID) when Meta sends one, else by phone number: since 2026 a user may have no
phone number in the payload at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, get_args

from ingest.normalise.lenient import Skip as _Skip
from ingest.normalise.lenient import items as _list
from ingest.normalise.lenient import obj as _obj
from ingest.normalise.lenient import text as _str
from ingest.normalise.result import UNRECOGNISED, Normalised
from schemas.events import (
    ConsentChanged,
    ConsentChangedData,
    ContactIdentityChanged,
    ContactIdentityChangedData,
    DeliveryStatus,
    Event,
    MessageEdited,
    MessageEditedData,
    MessageReceived,
    MessageReceivedData,
    MessageRevoked,
    MessageRevokedData,
    MessageStatusChanged,
    MessageStatusChangedData,
    Personal,
    ProviderError,
    Source,
    WhatsAppRoute,
)
from schemas.keys import Pseudonymizer

_STATUSES: frozenset[str] = frozenset(get_args(DeliveryStatus))
_IDENTITY_CHANGES = frozenset(
    {"user_changed_number", "user_changed_user_id", "customer_identity_changed"}
)
_MARKETING_GRANTED = {"resume": True, "signup": True, "stop": False}
_ENVELOPE_KEYS = frozenset({"id", "timestamp", "type", "from", "from_user_id"})


def _time(raw: object) -> datetime:
    try:
        seconds = int(raw)  # type: ignore[call-overload]
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise _Skip("malformed timestamp") from exc


class _Change:
    """One ``changes[]`` item of field ``messages`` or ``user_preferences``."""

    def __init__(
        self,
        value: Mapping[str, Any],
        waba_id: str | None,
        source: Source,
        keys: Pseudonymizer,
        correlation_id: str,
    ) -> None:
        metadata = _obj(value.get("metadata"))
        phone_number_id = _str(metadata, "phone_number_id")
        if phone_number_id is None:
            raise _Skip("change without metadata.phone_number_id")
        self.value = value
        self.route = WhatsAppRoute(phone_number_id=phone_number_id, business_account_id=waba_id)
        self.source: Source = source
        self.keys = keys
        self.correlation_id = correlation_id
        self.contacts = [_obj(c) for c in _list(value.get("contacts"))]

    def _contact(self, phone: str | None, user_id: str | None) -> Mapping[str, Any]:
        """The ``contacts[]`` entry of a sender: by BSUID, or by phone when it has none."""
        for contact in self.contacts:
            if user_id is not None and contact.get("user_id") == user_id:
                return contact
            if phone is not None and contact.get("wa_id") == phone:
                return contact
        return {}

    def _identity(self, phone: str | None, user_id: str | None) -> tuple[str, Personal]:
        contact = self._contact(phone, user_id)
        user_id = user_id or _str(contact, "user_id")
        identity = user_id or phone
        if identity is None:
            raise _Skip("update without a sender or recipient")
        name = _str(_obj(contact.get("profile")), "name")
        return identity, Personal(phone=phone, user_id=user_id, contact_name=name)

    def _envelope(self, event_id: str, subject: str, time: datetime) -> dict[str, Any]:
        return {
            "id": event_id,
            "source": self.source,
            "time": time,
            "subject": subject,
            "correlation_id": self.correlation_id,
        }

    def message(self, message: Mapping[str, Any]) -> Event:
        wamid = _str(message, "id")
        kind = _str(message, "type")
        if wamid is None or kind is None:
            raise _Skip("message without id or type")
        identity, who = self._identity(_str(message, "from"), _str(message, "from_user_id"))
        contact_id = self.keys.whatsapp_contact(identity)
        if kind == "system":
            return self._system(message, wamid, contact_id, who)
        subject = self.keys.whatsapp_conversation(self.route.phone_number_id, identity)
        envelope = self._envelope(f"wa:{wamid}", subject, _time(message.get("timestamp")))
        common = {"channel": "whatsapp", "contact_id": contact_id, "route": self.route}
        if kind == "revoke":
            original = _str(_obj(message.get("revoke")), "original_message_id")
            if original is None:
                raise _Skip("revoke without original_message_id")
            data = MessageRevokedData(
                **common, provider_message_id=wamid, original_message_id=original
            )
            return MessageRevoked(**envelope, data=data)
        if kind == "edit":
            edit = _obj(message.get("edit"))
            original = _str(edit, "original_message_id")
            edited = _obj(edit.get("message"))
            edited_type = _str(edited, "type")
            if original is None or edited_type is None:
                raise _Skip("edit without original_message_id or message")
            personal = _content(who, edited, edited_type)
            return MessageEdited(
                **envelope,
                data=MessageEditedData(
                    **common,
                    provider_message_id=wamid,
                    original_message_id=original,
                    message_type=edited_type,
                    personal=personal,
                ),
            )
        return MessageReceived(
            **envelope,
            data=MessageReceivedData(
                **common,
                provider_message_id=wamid,
                message_type=kind,
                in_reply_to=_str(_obj(message.get("context")), "id"),
                personal=_content(who, message, kind),
            ),
        )

    def _system(
        self, message: Mapping[str, Any], wamid: str, contact_id: str, who: Personal
    ) -> Event:
        system = _obj(message.get("system"))
        change = _str(system, "type")
        if change not in _IDENTITY_CHANGES:
            raise _Skip("unhandled system message type")
        new_identity = _str(system, "user_id") or _str(system, "wa_id")
        new_contact_id = self.keys.whatsapp_contact(new_identity) if new_identity else None
        personal = who.model_copy(update={"text": _str(system, "body"), "content": dict(system)})
        return ContactIdentityChanged(
            **self._envelope(f"wa:{wamid}", contact_id, _time(message.get("timestamp"))),
            data=ContactIdentityChangedData(
                channel="whatsapp",
                contact_id=contact_id,
                change=change,  # checked against _IDENTITY_CHANGES
                new_contact_id=new_contact_id if new_contact_id != contact_id else None,
                personal=personal,
            ),
        )

    def status(self, status: Mapping[str, Any]) -> Event:
        wamid = _str(status, "id")
        state = _str(status, "status")
        if wamid is None or state is None:
            raise _Skip("status without id or status")
        if state not in _STATUSES:
            raise _Skip("unhandled delivery status")
        if status.get("recipient_type") == "group":
            # The message went to a group: the conversation is the group's, the contact is
            # the participant the status is about.
            group = _str(status, "recipient_id")
            identity, who = self._identity(
                _str(status, "recipient_participant_id"),
                _str(status, "recipient_participant_user_id"),
            )
            conversation = group or identity
        else:
            identity, who = self._identity(
                _str(status, "recipient_id"), _str(status, "recipient_user_id")
            )
            conversation = identity
        errors = tuple(
            ProviderError(code=_obj(e).get("code"), title=_str(_obj(e), "title"))
            for e in _list(status.get("errors"))
        )
        subject = self.keys.whatsapp_conversation(self.route.phone_number_id, conversation)
        return MessageStatusChanged(
            **self._envelope(f"wa-status:{wamid}:{state}", subject, _time(status.get("timestamp"))),
            data=MessageStatusChangedData(
                channel="whatsapp",
                contact_id=self.keys.whatsapp_contact(identity),
                route=self.route,
                provider_message_id=wamid,
                status=state,  # checked against _STATUSES
                errors=errors,
                personal=who,
            ),
        )

    def preference(self, preference: Mapping[str, Any]) -> Event:
        if preference.get("category") != "marketing_messages":
            raise _Skip("unhandled preference category")
        value = _str(preference, "value")
        if value not in _MARKETING_GRANTED:
            raise _Skip("unhandled preference value")
        identity, _ = self._identity(_str(preference, "wa_id"), _str(preference, "user_id"))
        contact_id = self.keys.whatsapp_contact(identity)
        time = _time(preference.get("timestamp"))
        event_id = f"wa-pref:{contact_id}:marketing:{value}:{int(time.timestamp())}"
        return ConsentChanged(
            **self._envelope(event_id, contact_id, time),
            data=ConsentChangedData(
                contact_id=contact_id,
                consent_type="marketing",
                granted=_MARKETING_GRANTED[value],
                reason=f"whatsapp:{value}",
            ),
        )

    def updates(self, field: str) -> Iterator[Event | _Skip]:
        if field == "messages":
            for item in _list(self.value.get("messages")):
                yield _attempt(self.message, item)
            for item in _list(self.value.get("statuses")):
                yield _attempt(self.status, item)
        else:
            for item in _list(self.value.get("user_preferences")):
                yield _attempt(self.preference, item)


def _attempt(build: Any, item: object) -> Event | _Skip:
    try:
        return build(_obj(item))  # type: ignore[no-any-return]
    except _Skip as skip:
        return skip
    except ValueError:  # pydantic rejected a field of an unexpected shape
        return _Skip("malformed update")


def _content(who: Personal, message: Mapping[str, Any], kind: str) -> Personal:
    body = _obj(message.get(kind))
    text = (
        _str(body, "body")
        or _str(body, "caption")
        or _str(body, "text")
        or _str(body, "emoji")
        or _str(_obj(body.get("button_reply")), "title")
        or _str(_obj(body.get("list_reply")), "title")
    )
    content = {k: v for k, v in message.items() if k not in _ENVELOPE_KEYS}
    return who.model_copy(update={"text": text, "content": content})


_HANDLED_FIELDS = frozenset({"messages", "user_preferences"})


def normalise(
    body: object, *, source: Source, keys: Pseudonymizer, correlation_id: str
) -> Normalised:
    """Turn a Cloud API webhook body into events; never raises on any JSON value."""
    root = _obj(body)
    if root.get("object") != "whatsapp_business_account" or not isinstance(root.get("entry"), list):
        return UNRECOGNISED
    events: list[Event] = []
    ignored: list[str] = []
    for entry in _list(root.get("entry")):
        waba_id = _str(_obj(entry), "id")
        for raw_change in _list(_obj(entry).get("changes")):
            change = _obj(raw_change)
            field = _str(change, "field")
            if field not in _HANDLED_FIELDS:
                ignored.append("unhandled change field")
                continue
            try:
                parsed = _Change(_obj(change.get("value")), waba_id, source, keys, correlation_id)
            except _Skip as skip:
                ignored.append(str(skip))
                continue
            for update in parsed.updates(field):
                if isinstance(update, _Skip):
                    ignored.append(str(update))
                else:
                    events.append(update)
    return Normalised(events=tuple(events), ignored=tuple(ignored))
