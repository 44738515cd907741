"""The webhook endpoints: one shared acceptance path, one small adapter per provider.

Every request goes through the same steps, in this order, and stops at the first refusal:
rate limit (429) → content type and declared length (415, 413) → a place for a large body
among the client's (429, ingest/admission.py) → read the body within the size limit, its
deadline and the budget of bodies being read, charged as bytes arrive (413, 408, 503) →
authenticate (403) → parse JSON (400) → normalise → append to the log (503
if Kafka does not acknowledge in time) → 200. Nothing is written before the last step, so a
refused request leaves nothing behind; nor does a client that hangs up mid-body (counted
`client_disconnected`, 499, as nginx logs it: no fault of ours, no error report).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from datakeys.keyring import KeyRing
from ingest.admission import BodyBudget, BodyPace
from ingest.body import check_declared, parse_json, receive_body
from ingest.compliance.wiring import Compliance
from ingest.errors import BadSignature, NotConfigured, RateLimited, RequestRefused, StaleSignature
from ingest.metrics import IngestMetrics
from ingest.normalise import chatwoot as chatwoot_payloads
from ingest.normalise import whatsapp as whatsapp_payloads
from ingest.normalise.result import Normalised
from ingest.openapi import (
    CHATWOOT_EXAMPLE,
    CLOUD_API_EXAMPLE,
    SUBSCRIBE_REQUEST,
    SUBSCRIBE_RESPONSES,
    WEBHOOK_RESPONSES,
    webhook_request,
)
from ingest.producer import EventLog
from ingest.ratelimit import Network, RateLimiter, client_address, retry_after_header
from ingest.signatures import SignatureError, StaleTimestampError
from ingest.signatures import chatwoot as chatwoot_signature
from ingest.signatures import dialog360 as dialog360_signature
from ingest.signatures import whatsapp as whatsapp_signature
from schemas.keys import Pseudonymizer
from sinks.postgres.pool import LazyDatabase
from switchboard import logs

log = structlog.get_logger(__name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_MAX_CHALLENGE = 256


@dataclass(frozen=True)
class Secrets:
    chatwoot: tuple[bytes, ...]
    chatwoot_tolerance: float
    whatsapp: tuple[bytes, ...]
    whatsapp_verify_token: bytes
    dialog360: tuple[bytes, ...]
    dialog360_header: str


@dataclass
class Ingest:
    """Everything the endpoints need, wired once per process."""

    secrets: Secrets
    providers: frozenset[str]
    pseudonymizer: Pseudonymizer  # contact ids from identities (the key ring seals)
    log: EventLog  # seals before it writes: a SealingEventLog
    keyring: KeyRing
    limiter: RateLimiter
    metrics: IngestMetrics
    max_body_bytes: int
    bodies: BodyBudget  # bytes of bodies held at once, across requests
    body_pace: BodyPace = field(default_factory=BodyPace)  # how long a body may take
    trusted_proxies: tuple[Network, ...] = ()
    clock: Callable[[], float] = field(default=time.time)
    # PostgreSQL, for key claims of new contacts and the compliance API, closed with the
    # app; webhooks of known contacts never wait on it.
    database: LazyDatabase | None = None
    compliance: Compliance | None = None


Authenticate = Callable[[Ingest, Mapping[str, str], bytes], None]
Normalise = Callable[[Ingest, object, Mapping[str, str], str], Normalised]


@dataclass(frozen=True)
class Provider:
    """How one provider's webhooks are authenticated and turned into events."""

    name: str
    authenticate: Authenticate
    normalise: Normalise


def correlation_id(headers: Mapping[str, str]) -> str:
    for name in ("x-request-id", chatwoot_signature.DELIVERY_HEADER):
        value = headers.get(name)
        if value and _REQUEST_ID.match(value):
            return value
    return uuid.uuid4().hex


async def accept(request: Request, provider: Provider) -> Response:
    """Run the acceptance steps; count, log and answer whatever the outcome."""
    ingest: Ingest = request.app.state.ingest
    request_id = correlation_id(request.headers)
    logs.bind_correlation(request_id)  # on every log line and error report of this request
    started = time.perf_counter()
    try:
        outcome, response = await _accept(request, ingest, provider, request_id)
    except RequestRefused as refused:
        outcome = refused.outcome
        response = JSONResponse(
            {"detail": refused.detail}, status_code=refused.status_code, headers=refused.headers
        )
    response.headers["X-Request-ID"] = request_id
    ingest.metrics.webhooks.labels(provider.name, outcome).inc()
    log.info(
        "webhook",
        provider=provider.name,
        outcome=outcome,
        status=response.status_code,
        correlation_id=request_id,
        duration_ms=round((time.perf_counter() - started) * 1000, 2),
    )
    return response


async def _accept(
    request: Request, ingest: Ingest, provider: Provider, request_id: str
) -> tuple[str, Response]:
    headers = request.headers
    if provider.name not in ingest.providers:
        raise NotConfigured(f"the {provider.name} webhook is not enabled")
    peer = request.client.host if request.client else None
    client = client_address(peer, headers.get("x-forwarded-for"), ingest.trusted_proxies)
    wait = ingest.limiter.acquire(client, ingest.clock())
    if wait:
        raise RateLimited(
            "rate limit exceeded; retry later",
            headers={"Retry-After": retry_after_header(wait)},
        )
    body = await _read_body(request, ingest, client)
    try:
        provider.authenticate(ingest, headers, body)
    except StaleTimestampError as exc:
        raise StaleSignature(str(exc)) from exc
    except SignatureError as exc:
        raise BadSignature(str(exc)) from exc
    result = provider.normalise(ingest, parse_json(body), headers, request_id)
    # Nothing awaited since the body was read: dropped now, neither it nor its JSON is held
    # across the append below, so ingest.bodies counts every body held across an await.
    del body
    ingest.metrics.ignored_parts.labels(provider.name).inc(len(result.ignored))
    if not result.recognised:
        detail = {"status": "ignored", "detail": "payload shape not recognised"}
        return "unrecognised", JSONResponse(detail, status_code=202)
    if result.events:
        # ingest.log seals every event before it is written (ingest/sealing.py).
        with ingest.metrics.produce_seconds.time():
            await ingest.log.append(result.events)
        for event in result.events:
            ingest.metrics.events.labels(provider.name, event.type).inc()
    outcome = "accepted" if result.events else "ignored"
    summary = {"status": outcome, "events": len(result.events), "ignored": len(result.ignored)}
    return outcome, JSONResponse(summary)


async def _read_body(request: Request, ingest: Ingest, client: str) -> bytes:
    """The body, read within the size limit, its pace and the budget of bodies being read."""
    try:
        declared = check_declared(request.headers, ingest.max_body_bytes)
        reservation = ingest.bodies.admit(client, declared)
        try:
            return await receive_body(
                request.receive, ingest.max_body_bytes, ingest.body_pace, reservation
            )
        finally:
            reservation.release()
    except RequestRefused as refused:
        # What is left of the body is never read: the connection cannot carry another
        # request, and closing it ends a slow sender's hold on it.
        refused.headers["Connection"] = "close"
        raise


# --- providers ---------------------------------------------------------------------


def _chatwoot_auth(ingest: Ingest, headers: Mapping[str, str], body: bytes) -> None:
    chatwoot_signature.verify(
        ingest.secrets.chatwoot, headers, body, ingest.clock(), ingest.secrets.chatwoot_tolerance
    )


def _chatwoot_events(
    ingest: Ingest, payload: object, headers: Mapping[str, str], request_id: str
) -> Normalised:
    return chatwoot_payloads.normalise(
        payload,
        keys=ingest.pseudonymizer,
        correlation_id=request_id,
        delivery_id=headers.get(chatwoot_signature.DELIVERY_HEADER),
    )


def _whatsapp_auth(ingest: Ingest, headers: Mapping[str, str], body: bytes) -> None:
    whatsapp_signature.verify(ingest.secrets.whatsapp, headers, body)


def _whatsapp_events(
    ingest: Ingest, payload: object, headers: Mapping[str, str], request_id: str
) -> Normalised:
    return whatsapp_payloads.normalise(
        payload, source="whatsapp-cloud", keys=ingest.pseudonymizer, correlation_id=request_id
    )


def _dialog360_auth(ingest: Ingest, headers: Mapping[str, str], body: bytes) -> None:
    dialog360_signature.verify(ingest.secrets.dialog360, ingest.secrets.dialog360_header, headers)


def _dialog360_events(
    ingest: Ingest, payload: object, headers: Mapping[str, str], request_id: str
) -> Normalised:
    return whatsapp_payloads.normalise(
        payload, source="360dialog", keys=ingest.pseudonymizer, correlation_id=request_id
    )


CHATWOOT = Provider("chatwoot", _chatwoot_auth, _chatwoot_events)
WHATSAPP = Provider("whatsapp", _whatsapp_auth, _whatsapp_events)
DIALOG360 = Provider("360dialog", _dialog360_auth, _dialog360_events)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.post(
    "/chatwoot",
    responses=WEBHOOK_RESPONSES,
    openapi_extra=webhook_request(
        CHATWOOT_EXAMPLE,
        ("X-Chatwoot-Signature", "sha256=<hex HMAC-SHA256 of '{timestamp}.{body}'>", True),
        ("X-Chatwoot-Timestamp", "unix seconds; refused outside the tolerance", True),
        ("X-Chatwoot-Delivery", "Chatwoot's delivery id", False),
    ),
)
async def chatwoot(request: Request) -> Response:
    """Chatwoot account, agent-bot and API-inbox webhooks, signed with X-Chatwoot-Signature."""
    return await accept(request, CHATWOOT)


@router.post(
    "/whatsapp",
    responses=WEBHOOK_RESPONSES,
    openapi_extra=webhook_request(
        CLOUD_API_EXAMPLE,
        ("X-Hub-Signature-256", "sha256=<hex HMAC-SHA256 of the body with the app secret>", True),
    ),
)
async def whatsapp(request: Request) -> Response:
    """WhatsApp Cloud API webhooks from Meta, signed with X-Hub-Signature-256."""
    return await accept(request, WHATSAPP)


@router.post(
    "/360dialog", responses=WEBHOOK_RESPONSES, openapi_extra=webhook_request(CLOUD_API_EXAMPLE)
)
async def dialog360(request: Request) -> Response:
    """360dialog Cloud API webhooks, authenticated by the header registered with 360dialog
    (DIALOG360_WEBHOOK_HEADER, X-Switchboard-Token unless configured otherwise)."""
    return await accept(request, DIALOG360)


@router.get(
    "/whatsapp",
    response_class=PlainTextResponse,
    responses=SUBSCRIBE_RESPONSES,
    openapi_extra=SUBSCRIBE_REQUEST,
)
async def whatsapp_subscribe(request: Request) -> Response:
    """Meta's verification handshake: echo hub.challenge when hub.verify_token matches."""
    ingest: Ingest = request.app.state.ingest
    query = request.query_params
    challenge = query.get("hub.challenge", "")
    try:
        if "whatsapp" not in ingest.providers:
            raise NotConfigured("the whatsapp webhook is not enabled")
        whatsapp_signature.verify_subscription(
            ingest.secrets.whatsapp_verify_token,
            query.get("hub.mode"),
            query.get("hub.verify_token"),
        )
    except SignatureError as exc:
        return PlainTextResponse(str(exc), status_code=403)
    except RequestRefused as refused:
        return PlainTextResponse(refused.detail, status_code=refused.status_code)
    if not challenge or len(challenge) > _MAX_CHALLENGE:
        return PlainTextResponse("hub.challenge is missing or too long", status_code=400)
    return PlainTextResponse(challenge)
