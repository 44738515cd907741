"""The envelope every event on the log shares, and the typed events it carries.

Close to CloudEvents in spirit: ``id`` (stable across provider retries, so duplicates
dedupe), ``type`` (the discriminator), ``source``, ``time``, ``schema_version``,
``subject`` (the pseudonymous partition key) and ``data``. Everything that identifies or
was written by a person sits in ``data.personal`` and nowhere else, so that one
sub-object can be sealed with the contact's data key: on the log it is a ``SealedPersonal``,
in memory (before sealing, after opening) a ``Personal``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter

Source = Literal["whatsapp-cloud", "360dialog", "chatwoot", "switchboard"]
Channel = Literal["whatsapp", "chatwoot"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Personal(_Model):
    """Personal data: the only part of an event that names, reaches or quotes a person."""

    text: str | None = None
    contact_name: str | None = None
    phone: str | None = None
    user_id: str | None = Field(default=None, description="WhatsApp business-scoped user id")
    email: str | None = None
    ip_address: str | None = Field(default=None, description="where a consent was given from")
    provider_contact_id: str | None = Field(
        default=None, description="the provider's own contact id (Chatwoot), to anonymise it there"
    )
    # The provider's own content object for this message type (media ids and links,
    # locations, shared contacts, orders…), kept whole for data engineers.
    content: dict[str, Any] = Field(default_factory=dict)
    redacted: bool = Field(
        default=False,
        description="true when it was sealed with a data key that is gone (the contact was "
        "forgotten): every other field is then empty",
    )


class Sealed(_Model):
    """Personal data sealed with its contact's data key (AES-256-GCM; see schemas/sealing.py)."""

    key_id: str = Field(description="the data key it was sealed with")
    nonce: str = Field(description="urlsafe base64, 12 bytes")
    ciphertext: str = Field(description="urlsafe base64 of the JSON Personal and its GCM tag")


class SealedPersonal(_Model):
    """How ``personal`` travels on the log: ``{"sealed": {"key_id", "nonce", "ciphertext"}}``."""

    sealed: Sealed


def _personal_kind(value: Any) -> str:
    if isinstance(value, SealedPersonal) or (isinstance(value, dict) and "sealed" in value):
        return "sealed"
    return "plain"


# Plaintext in memory (before sealing, after opening); sealed on the log.
PersonalField = Annotated[
    Annotated[Personal, Tag("plain")] | Annotated[SealedPersonal, Tag("sealed")],
    Discriminator(_personal_kind),
]


class StillSealedError(TypeError):
    """Personal data was read from an event that was not opened first: a wiring bug."""


def plain(personal: Personal | SealedPersonal) -> Personal:
    """The plaintext personal data of an opened (or never sealed) event."""
    if isinstance(personal, SealedPersonal):
        raise StillSealedError("personal data is still sealed; open the event with the key ring")
    return personal


class WhatsAppRoute(_Model):
    """Where a WhatsApp conversation lives on the business side; no personal data."""

    kind: Literal["whatsapp"] = "whatsapp"
    phone_number_id: str
    business_account_id: str | None = None


class ChatwootRoute(_Model):
    """The Chatwoot coordinates a reply is posted to; no personal data."""

    kind: Literal["chatwoot"] = "chatwoot"
    account_id: int
    conversation_id: int = Field(description="display id, as the REST paths use it")
    inbox_id: int | None = None


Route = Annotated[WhatsAppRoute | ChatwootRoute, Field(discriminator="kind")]


class _Envelope(_Model):
    id: str = Field(min_length=1, description="unique; derived from the provider's own id")
    source: Source
    time: AwareDatetime = Field(description="when the provider says it happened")
    schema_version: int = 1
    subject: str = Field(min_length=1, description="the partition key; pseudonymous")
    correlation_id: str = Field(min_length=1, description="follows the event to its outcome")


# --- conversation events (keyed by conversation key) -----------------------------


class MessageReceivedData(_Model):
    channel: Channel
    contact_id: str
    route: Route
    provider_message_id: str
    message_type: str = Field(description="text, image, reaction, order, …")
    in_reply_to: str | None = Field(default=None, description="provider id of the quoted message")
    personal: PersonalField


class MessageReceived(_Envelope):
    """A customer wrote something."""

    type: Literal["message.received"] = "message.received"
    data: MessageReceivedData


class MessageEditedData(_Model):
    channel: Channel
    contact_id: str
    route: Route
    provider_message_id: str
    original_message_id: str
    message_type: str
    personal: PersonalField


class MessageEdited(_Envelope):
    """A customer edited an earlier message."""

    type: Literal["message.edited"] = "message.edited"
    data: MessageEditedData


class MessageRevokedData(_Model):
    channel: Channel
    contact_id: str
    route: Route
    provider_message_id: str
    original_message_id: str


class MessageRevoked(_Envelope):
    """A customer deleted an earlier message for everyone."""

    type: Literal["message.revoked"] = "message.revoked"
    data: MessageRevokedData


DeliveryStatus = Literal["sent", "delivered", "read", "played", "failed"]


class ProviderError(_Model):
    code: int | str | None = None
    title: str | None = None


class MessageStatusChangedData(_Model):
    channel: Channel
    contact_id: str
    route: Route
    provider_message_id: str
    status: DeliveryStatus
    errors: tuple[ProviderError, ...] = ()
    personal: PersonalField


class MessageStatusChanged(_Envelope):
    """A message we sent was sent, delivered, read, played or failed."""

    type: Literal["message.status_changed"] = "message.status_changed"
    data: MessageStatusChangedData


ConversationStatus = Literal["open", "resolved", "pending", "snoozed"]


class ConversationStatusChangedData(_Model):
    channel: Channel
    route: Route
    status: ConversationStatus
    previous_status: ConversationStatus | None = None
    assignee_type: Literal["user", "team", "agent_bot"] | None = None


class ConversationStatusChanged(_Envelope):
    """A conversation was opened to humans, handed back, resolved or snoozed."""

    type: Literal["conversation.status_changed"] = "conversation.status_changed"
    data: ConversationStatusChangedData


# --- contact events (keyed by contact id) ----------------------------------------


class ContactIdentityChangedData(_Model):
    channel: Channel
    contact_id: str
    change: Literal["user_changed_number", "user_changed_user_id", "customer_identity_changed"]
    new_contact_id: str | None = Field(
        default=None, description="the contact id the new identity hashes to, if it changed"
    )
    personal: PersonalField


class ContactIdentityChanged(_Envelope):
    """A customer changed number, user id, or re-installed (security code changed)."""

    type: Literal["contact.identity_changed"] = "contact.identity_changed"
    data: ContactIdentityChangedData


ConsentType = Literal["marketing", "analytics", "communication"]


class ConsentChangedData(_Model):
    contact_id: str
    consent_type: ConsentType
    granted: bool
    reason: str = Field(description="the provider's or caller's reason code, e.g. 'resume'")
    origin: str = Field(
        default="provider",
        description="who recorded it: provider, api, cli, flow (the customer said STOP)",
    )
    personal: PersonalField = Field(default_factory=Personal, description="ip_address, if given")


class ConsentChanged(_Envelope):
    """A contact granted or withdrew a kind of consent."""

    type: Literal["consent.changed"] = "consent.changed"
    data: ConsentChangedData


# --- actions (keyed by conversation key): what the flow decided ----------------------

Intent = Literal[
    "greeting",
    "question",
    "order_status",
    "complaint",
    "human_request",
    "opt_out",
    "data_request",
    "data_question",
    "other",
]
HandoffReason = Literal[
    "complaint",
    "human_request",
    "low_confidence",
    "empty_answer",
    "overlong_answer",
    "model_error",
    "flow_timeout",
    "flow_error",
    "delivery_refused",
    "consent_withdrawn",
    "unverified_erasure_request",
    "unverified_export_request",
    "export_failed",
]


class ReplyRequestedData(_Model):
    channel: Channel
    source: Source = Field(description="the provider the conversation came through")
    contact_id: str
    route: Route
    in_reply_to: str = Field(description="the event id of the customer message answered")
    intent: Intent
    personal: PersonalField = Field(
        description="text: the reply; phone / user_id: the WhatsApp recipient, if any"
    )


class ReplyRequested(_Envelope):
    """The bot answers a customer message."""

    type: Literal["reply.requested"] = "reply.requested"
    data: ReplyRequestedData


class HandoffRequestedData(_Model):
    channel: Channel
    source: Source
    contact_id: str
    route: Route
    in_reply_to: str
    reason: HandoffReason
    intent: Intent | None = None
    personal: PersonalField = Field(
        description="text: what the customer is told (may be empty); phone / user_id: recipient"
    )


class HandoffRequested(_Envelope):
    """The conversation goes to a human; the bot stays silent until it is handed back."""

    type: Literal["handoff.requested"] = "handoff.requested"
    data: HandoffRequestedData


DataRequestKind = Literal["erasure", "export"]


class DataRequestedData(_Model):
    contact_id: str
    kind: DataRequestKind
    conversation_key: str
    in_reply_to: str


class DataRequested(_Envelope):
    """Written before requests in the chat needed a confirmation; kept so that old logs
    still read. It starts nothing: a chat request takes effect only through a confirmed
    ``data_request.closed``."""

    type: Literal["data.requested"] = "data.requested"
    data: DataRequestedData


class ChatDataRequest(_Model):
    """A data request made in a conversation: where, whose, of which kind."""

    channel: Channel
    source: Source
    contact_id: str
    route: Route
    kind: DataRequestKind
    request_id: str = Field(description="the event id of the customer message that asked")


class DataRequestOpenedData(ChatDataRequest):
    expires_at: AwareDatetime = Field(description="a confirmation after this is refused")


class DataRequestOpened(_Envelope):
    """A customer asked in the chat for an erasure or an export; the bot asked them to
    confirm it with a one-time code (which is not on the log)."""

    type: Literal["data_request.opened"] = "data_request.opened"
    data: DataRequestOpenedData


DataRequestDecision = Literal["confirmed", "declined", "wrong_code", "expired", "handed_off"]


class DataRequestClosedData(ChatDataRequest):
    in_reply_to: str = Field(description="the event id of the customer message that decided")
    decision: DataRequestDecision
    reference: str | None = Field(
        default=None, description="the deletion or export id, when confirmed"
    )
    personal: PersonalField = Field(
        default_factory=Personal,
        description="phone / user_id: whom to send an export's link to",
    )


class DataRequestClosed(_Envelope):
    """How a request made in the chat ended: confirmed (the erasure or export starts once
    the reply before it on the same conversation is delivered), declined, a wrong code,
    expired, or handed to a person (the channel cannot confirm who is writing)."""

    type: Literal["data_request.closed"] = "data_request.closed"
    data: DataRequestClosedData


# --- privacy requests (keyed by contact id) ---------------------------------------


class ErasureRequestedData(_Model):
    contact_id: str
    deletion_id: str
    reason: str = Field(description="a reason code, e.g. customer_request, retention")
    requested_by: str = Field(description="an API key id, an operator, the flow or retention")


class ErasureRequested(_Envelope):
    """Forget a contact everywhere (GDPR art. 17)."""

    type: Literal["erasure.requested"] = "erasure.requested"
    data: ErasureRequestedData


class ChatReplyTo(_Model):
    """The conversation a chat request came from, where its outcome is to be sent."""

    channel: Channel
    source: Source
    route: Route
    conversation_key: str
    in_reply_to: str = Field(description="the event id of the message that confirmed it")


class ExportRequestedData(_Model):
    contact_id: str
    export_id: str
    requested_by: str
    reply_to: ChatReplyTo | None = Field(
        default=None, description="set for a request confirmed in the chat: send the link there"
    )
    personal: PersonalField = Field(
        default_factory=Personal, description="phone / user_id: whom to send the link to"
    )


class ExportRequested(_Envelope):
    """Collect everything held about a contact into an archive (GDPR art. 20)."""

    type: Literal["export.requested"] = "export.requested"
    data: ExportRequestedData


class ConversationErasedData(_Model):
    contact_id: str
    deletion_id: str


class ConversationErased(_Envelope):
    """Keyed by a conversation of an erased contact: drop its state (tombstone the table)."""

    type: Literal["conversation.erased"] = "conversation.erased"
    data: ConversationErasedData


Event = Annotated[
    MessageReceived
    | MessageEdited
    | MessageRevoked
    | MessageStatusChanged
    | ConversationStatusChanged
    | ContactIdentityChanged
    | ConsentChanged
    | ReplyRequested
    | HandoffRequested
    | DataRequested
    | DataRequestOpened
    | DataRequestClosed
    | ErasureRequested
    | ExportRequested
    | ConversationErased,
    Field(discriminator="type"),
]

EVENT_TYPES: tuple[type[_Envelope], ...] = (
    MessageReceived,
    MessageEdited,
    MessageRevoked,
    MessageStatusChanged,
    ConversationStatusChanged,
    ContactIdentityChanged,
    ConsentChanged,
    ReplyRequested,
    HandoffRequested,
    DataRequested,
    DataRequestOpened,
    DataRequestClosed,
    ErasureRequested,
    ExportRequested,
    ConversationErased,
)

event_adapter: TypeAdapter[Event] = TypeAdapter(Event)


def kafka_headers(event: Event) -> list[tuple[str, bytes]]:
    """Headers every record carries, so consumers can route without parsing the value."""
    return [
        ("type", event.type.encode()),
        ("schema-version", str(event.schema_version).encode()),
        ("correlation-id", event.correlation_id.encode()),
    ]


def encode(event: Event) -> bytes:
    return event.model_dump_json().encode()


def decode(value: bytes) -> Event:
    return event_adapter.validate_json(value)


def event_type(cls: type[_Envelope]) -> str:
    """The ``type`` literal a model class carries."""
    default = cls.model_fields["type"].default
    if not isinstance(default, str):
        raise TypeError(f"{cls.__name__} has no type literal")
    return default
