"""The compliance API's HTTP endpoints: parse, authenticate, call the service, answer.

Refusals are rendered by one handler (`install`), which also counts them, so every
endpoint answers with the same ``{"detail": …}`` body and the metrics see every outcome.
Every request first passes a rate limit per client (`throttle.py`); refusals of callers
who proved no key are counted per minute and reason (`refusals.py`), not audited one by one.
Contacts travel in bodies: ``DELETE /gdpr/contacts/{contact}`` remains as an alias only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.routing import Match
from starlette.types import Scope

from ingest.body_limit import BodyLimitMiddleware
from ingest.compliance.audit import Action, AuditEntry
from ingest.compliance.auth import Principal, reads_of
from ingest.compliance.errors import ComplianceRefused
from ingest.compliance.invalid import validation_errors
from ingest.compliance.models import (
    ConsentAccepted,
    ConsentRequest,
    ContactErasureRequest,
    DeletionStatus,
    ErasureAccepted,
    ErasureRequest,
    ExportAccepted,
    ExportRequest,
    ExportStatus,
    Problem,
)
from ingest.compliance.recorder import RecorderLifespan
from ingest.compliance.throttle import ClientRateLimitMiddleware
from ingest.compliance.wiring import Compliance
from ingest.errors import RequestRefused
from ingest.http_metrics import UNMATCHED
from ingest.metrics import IngestMetrics
from ingest.webhooks import correlation_id

router = APIRouter(prefix="/gdpr", tags=["compliance"])

# Shown in the OpenAPI schema; the header itself is read and judged by the Authenticator.
_bearer = HTTPBearer(auto_error=False, description="a compliance API key: sb_<prefix>_<secret>")

# Endpoint function → (metric label, audit action).
_ENDPOINTS: dict[str, tuple[str, Action]] = {
    "record_consent": ("consent", "consent.record"),
    "request_export": ("export", "export.request"),
    "export_status": ("export_status", "export.status"),
    "download_export": ("export_download", "export.download"),
    "request_erasure": ("erasure", "erasure.request"),
    "request_erasure_by_path": ("erasure", "erasure.request"),
    "deletion_status": ("deletion_status", "deletion.status"),
}

# Archives and links to them are credentials: no cache (browser or proxy) may keep them.
_NO_STORE = {"Cache-Control": "no-store"}


# Compliance requests are a few hundred bytes; nothing larger is read (ingest/body_limit.py).
MAX_BODY_BYTES = 64 * 1024


def _problem(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Refusals with the {"detail"} body; every endpoint may refuse a body over the limit
    and a client or key over its rate."""
    return {code: {"model": Problem} for code in (*codes, 413, 429)}


def _compliance(request: Request) -> Compliance:
    compliance: Compliance = request.app.state.compliance
    return compliance


def _metrics(request: Request) -> IngestMetrics:
    metrics: IngestMetrics = request.app.state.ingest.metrics
    return metrics


def _endpoint(request: Request) -> tuple[str, Action] | None:
    endpoint = request.scope.get("endpoint")
    return _ENDPOINTS.get(getattr(endpoint, "__name__", ""))


def _count(request: Request, outcome: str) -> None:
    found = _endpoint(request)
    if found is not None:
        _metrics(request).compliance.labels(found[0], outcome).inc()


def _matched(scope: Scope) -> tuple[str, Action] | None:
    """The endpoint a request not yet routed will reach, if any."""
    for route in router.routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            return _ENDPOINTS.get(getattr(child.get("endpoint"), "__name__", ""))
    return None


def _count_refusal(
    compliance: Compliance, metrics: IngestMetrics, endpoint: str, reason: str, key_id: str
) -> None:
    metrics.compliance_counted.labels(reason).inc()
    compliance.refusals.count(endpoint, reason, key_id)


def key_with(action: Action, *scopes: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the calling key, which must hold one of ``scopes``."""

    async def authenticated(
        request: Request,
        _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        principal = await _compliance(request).authenticator.authenticate(
            request.headers.get("authorization"), action, scopes
        )
        request.state.principal = principal
        return principal

    return authenticated


ConsentKey = Annotated[Principal, Depends(key_with("consent.record", "consent:write"))]
ExportKey = Annotated[Principal, Depends(key_with("export.request", "gdpr:export"))]
ExportReadKey = Annotated[
    Principal,
    Depends(key_with("export.status", "gdpr:export", "gdpr:read", "gdpr:read-all")),
]
EraseKey = Annotated[Principal, Depends(key_with("erasure.request", "gdpr:erase"))]
DeletionReadKey = Annotated[
    Principal, Depends(key_with("deletion.status", "gdpr:read", "gdpr:erase", "gdpr:read-all"))
]


@router.post(
    "/consent",
    status_code=202,
    response_model=ConsentAccepted,
    responses=_problem(400, 401, 403, 404, 503),
)
async def record_consent(
    body: ConsentRequest,
    request: Request,
    key: ConsentKey,
) -> ConsentAccepted:
    """Record that a contact granted or withdrew a kind of consent (a `consent.changed`
    event). Scope `consent:write`."""
    accepted = await _compliance(request).service.record_consent(
        key.key_id, body, origin="api", correlation_id=correlation_id(request.headers)
    )
    _count(request, "accepted")
    return accepted


@router.post(
    "/export",
    status_code=202,
    response_model=ExportAccepted,
    responses=_problem(400, 401, 403, 404, 503),
)
async def request_export(
    body: ExportRequest,
    request: Request,
    key: ExportKey,
) -> ExportAccepted:
    """Collect everything held about a contact into an archive (GDPR art. 20). Scope
    `gdpr:export`."""
    accepted = await _compliance(request).service.request_export(
        key.key_id, body.contact, correlation_id=correlation_id(request.headers)
    )
    _count(request, "accepted")
    return accepted


@router.get(
    "/export/{export_id}/status",
    response_model=ExportStatus,
    responses=_problem(401, 403, 404, 503),
)
async def export_status(
    export_id: str,
    request: Request,
    response: Response,
    key: ExportReadKey,
) -> ExportStatus:
    """Where an export stands; once completed, a signed download link that expires with the
    export. Only for the key that asked for it (`gdpr:export` or `gdpr:read`), or any
    export with `gdpr:read-all`; another key's export is 404, as an unknown one."""
    status = await _compliance(request).service.export_status(
        key.key_id, export_id, owner=reads_of(key)
    )
    response.headers.update(_NO_STORE)  # the link is a credential
    _count(request, "ok")
    return status


@router.get(
    "/export/{export_id}/download",
    response_class=FileResponse,
    responses={
        200: {"content": {"application/json": {}}, "description": "the JSON archive"},
        **_problem(403, 404, 410, 503),
    },
)
async def download_export(
    export_id: str,
    request: Request,
    expires: Annotated[str | None, Query(description="unix seconds, from the link")] = None,
    signature: Annotated[str | None, Query(description="from the link")] = None,
) -> FileResponse:
    """The export archive. No API key: the signed link is the credential; a tampered link is
    403, an expired one 410, a deleted export 404."""
    path = await _compliance(request).service.open_download(export_id, expires, signature)
    _count(request, "served")
    return FileResponse(
        path, media_type="application/json", filename=f"{export_id}.json", headers=_NO_STORE
    )


@router.post(
    "/erasure",
    status_code=202,
    response_model=ErasureAccepted,
    responses=_problem(400, 401, 403, 404, 503),
)
async def request_erasure(
    body: ContactErasureRequest,
    request: Request,
    key: EraseKey,
) -> ErasureAccepted:
    """Forget a contact everywhere (GDPR art. 17); the body must say `"confirmation": true`.
    The contact is a `ct_…` id or a provider identity (`phone:+…`, `bsuid:…`,
    `chatwoot:<account>/<contact>`), in the body, so that no URL (access log, trace) shows
    it. Scope `gdpr:erase`."""
    return await _erase(request, key, body.contact, body)


@router.delete(
    "/contacts/{contact_id:path}",
    status_code=202,
    response_model=ErasureAccepted,
    responses=_problem(400, 401, 403, 404, 503),
    deprecated=True,
)
async def request_erasure_by_path(
    contact_id: str,
    request: Request,
    key: EraseKey,
    body: Annotated[ErasureRequest | None, Body()] = None,
) -> ErasureAccepted:
    """Deprecated: `POST /gdpr/erasure` with the contact in the path, kept for existing
    clients; the identity shows in every access log on the way. Scope `gdpr:erase`."""
    return await _erase(request, key, contact_id, body or ErasureRequest())


async def _erase(
    request: Request, key: Principal, contact: str, body: ErasureRequest
) -> ErasureAccepted:
    accepted = await _compliance(request).service.request_erasure(
        key.key_id, contact, body, correlation_id=correlation_id(request.headers)
    )
    _count(request, "accepted")
    return accepted


@router.get(
    "/deletions/{deletion_id}",
    response_model=DeletionStatus,
    responses=_problem(401, 403, 404, 503),
)
async def deletion_status(
    deletion_id: str,
    request: Request,
    key: DeletionReadKey,
) -> DeletionStatus:
    """An erasure's overall state and when each target finished. Only for a key that asked
    for it (`gdpr:erase` or `gdpr:read`), or any erasure with `gdpr:read-all`; another's is
    404, as an unknown one."""
    status = await _compliance(request).service.deletion_status(
        key.key_id, deletion_id, owner=reads_of(key)
    )
    _count(request, "ok")
    return status


async def _refused(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, RequestRefused):  # pragma: no cover - registered for it only
        raise exc
    _count(request, exc.outcome)
    if isinstance(exc, ComplianceRefused) and exc.counted_as is not None:
        found = _endpoint(request)
        endpoint = found[0] if found is not None else UNMATCHED
        _count_refusal(
            _compliance(request), _metrics(request), endpoint, exc.counted_as, exc.counted_key
        )
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _invalid(request: Request, exc: Exception) -> Response:
    """A body that does not fit its model: 422, counted, and audited once the key is known
    (a body that is not JSON at all is refused before the key is checked: counted only)."""
    if not isinstance(exc, RequestValidationError):  # pragma: no cover
        raise exc
    found = _endpoint(request)
    principal: Principal | None = getattr(request.state, "principal", None)
    if found is not None:
        _count(request, "invalid")
        if principal is not None:
            entry = AuditEntry(principal.key_id, found[1], "invalid")
            await _compliance(request).audit.record(entry)
        else:
            _count_refusal(_compliance(request), _metrics(request), found[0], "invalid_body", "")
    return JSONResponse({"detail": validation_errors(exc.errors())}, status_code=422)


def install(app: FastAPI, compliance: Compliance) -> None:
    """Add the endpoints, and around them (outermost last) the body limit, the rate limit
    per client and the recorder of counted refusals."""
    app.state.compliance = compliance
    metrics: IngestMetrics = app.state.ingest.metrics

    def throttled(scope: Scope) -> None:
        found = _matched(scope)
        endpoint = found[0] if found is not None else UNMATCHED
        if found is not None:
            metrics.compliance.labels(endpoint, "rate_limited").inc()
        _count_refusal(compliance, metrics, endpoint, "rate_limited", "")

    app.include_router(router)
    app.add_middleware(BodyLimitMiddleware, prefix=router.prefix, limit=MAX_BODY_BYTES)
    app.add_middleware(
        ClientRateLimitMiddleware,
        prefix=router.prefix,
        limiter=compliance.client_limiter,
        trusted_proxies=app.state.ingest.trusted_proxies,
        on_refused=throttled,
    )
    app.add_middleware(RecorderLifespan, recorder=compliance.refusals)
    app.add_exception_handler(RequestRefused, _refused)
    app.add_exception_handler(RequestValidationError, _invalid)
