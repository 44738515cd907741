"""What the webhook and health endpoints read and answer, as the OpenAPI schema shows it.

The webhook handlers read the raw body themselves (its bytes are what is signed), so
FastAPI cannot infer any of this: it is declared here, once, and kept true by the
schemathesis test (tests/integration/test_openapi.py). Pure: pydantic models and dicts.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ingest.compliance.models import Problem


class WebhookAnswer(BaseModel):
    """A webhook whose events, if any, are durably in the log."""

    model_config = ConfigDict(frozen=True)

    status: Literal["accepted", "ignored"] = Field(
        description="accepted: at least one event was written; ignored: none was needed"
    )
    events: int = Field(ge=0, description="events written to the log")
    ignored: int = Field(ge=0, description="parts of the body deliberately not taken in")


class WebhookUnrecognised(BaseModel):
    """An authentic body of a shape we do not know: acknowledged, counted, not stored."""

    model_config = ConfigDict(frozen=True)

    status: Literal["ignored"]
    detail: str


class ComponentReport(BaseModel):
    """One dependency's state; probes add their own figures beside these two fields."""

    model_config = ConfigDict(extra="allow")

    status: Literal["up", "degraded", "down"]
    required: bool


class Alive(BaseModel):
    status: Literal["healthy"]


class HealthReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: Literal["healthy", "degraded", "unhealthy"]
    components: dict[str, ComponentReport]


_RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before sending again",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}
_REFUSALS: dict[int, str] = {
    400: "the body is not JSON, or holds values that cannot be represented",
    403: "the signature or credential header is missing, malformed or does not match",
    404: "this provider is not enabled (SWITCHBOARD_PROVIDERS)",
    413: "the body is over SWITCHBOARD_MAX_BODY_BYTES, or an event from it over a record",
    415: "the Content-Type is not application/json",
    429: "this client is over its rate limit",
    503: "the log did not acknowledge, or a new contact's data key cannot be made: retry",
}


def _refusal(code: int) -> dict[str, Any]:
    response: dict[str, Any] = {"model": Problem, "description": _REFUSALS[code]}
    if code in (429, 503):
        response["headers"] = _RETRY_AFTER
    return response


WEBHOOK_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": WebhookAnswer, "description": "the body's events are in the log"},
    202: {"model": WebhookUnrecognised, "description": "authentic, but of an unknown shape"},
    **{code: _refusal(code) for code in _REFUSALS},
}


# Example bodies, as the providers send them (made-up numbers and names).
CLOUD_API_EXAMPLE: dict[str, Any] = {
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": "200000000000002",
            "changes": [
                {
                    "field": "messages",
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": "15550000000",
                            "phone_number_id": "100000000000001",
                        },
                        "contacts": [{"profile": {"name": "Ann"}, "wa_id": "15550100001"}],
                        "messages": [
                            {
                                "from": "15550100001",
                                "id": "wamid.openapi-example",
                                "timestamp": "1772543157",
                                "type": "text",
                                "text": {"body": "Where is my parcel?"},
                            }
                        ],
                    },
                }
            ],
        }
    ],
}
CHATWOOT_EXAMPLE: dict[str, Any] = {
    "event": "message_created",
    "id": 4512,
    "content": "Where is my parcel?",
    "message_type": "incoming",
    "content_type": "text",
    "private": False,
    "created_at": "2026-03-03T13:05:57.000Z",
    "account": {"id": 3, "name": "Acme Support"},
    "inbox": {"id": 12, "name": "WhatsApp"},
    "conversation": {"id": 87, "inbox_id": 12, "status": "pending"},
    "sender": {"id": 1001, "name": "Ann", "type": "contact"},
}


def webhook_request(
    example: dict[str, Any], *signature_headers: tuple[str, str, bool]
) -> dict[str, Any]:
    """``openapi_extra`` of a webhook: a JSON body like ``example``, and (name, description,
    required) headers."""
    parameters = [
        {"name": name, "in": "header", "required": required, "description": description}
        | {"schema": {"type": "string"}}
        for name, description, required in signature_headers
    ]
    parameters.append(
        {
            "name": "X-Request-ID",
            "in": "header",
            "required": False,
            "description": "the correlation id, if it matches [A-Za-z0-9._:-]{1,64}; echoed back",
            "schema": {"type": "string"},
        }
    )
    return {
        "parameters": parameters,
        "requestBody": {
            "required": True,
            "description": "the provider's webhook body, as sent: its exact bytes are signed",
            "content": {"application/json": {"schema": {"type": "object"}, "example": example}},
        },
    }


_TEXT = {"text/plain": {"schema": {"type": "string"}}}
SUBSCRIBE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "hub.challenge, echoed", "content": _TEXT},
    400: {"description": "hub.challenge is missing or too long", "content": _TEXT},
    403: {
        "description": "hub.mode is not subscribe, or the verify token is wrong",
        "content": _TEXT,
    },
    404: {"description": "the WhatsApp webhook is not enabled", "content": _TEXT},
}
SUBSCRIBE_REQUEST: dict[str, Any] = {
    "parameters": [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
        for name in ("hub.mode", "hub.verify_token", "hub.challenge")
    ]
}

HEALTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": HealthReport, "description": "healthy or degraded"},
    503: {"model": HealthReport, "description": "a required dependency is down"},
}
