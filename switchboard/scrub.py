"""What may leave the process in an error report: Sentry's ``before_send``. Pure.

Sentry events carry far more than the exception: the request (body, cookies, headers with
signatures and tokens), local variables of every frame, breadcrumbs with log messages and
HTTP URLs, the user, extra data. Everything that could hold a customer's message, name,
phone number or email, or a credential, is removed; what stays is the exception's type,
the stack (code, not data), our own tags and the runtime's description.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"

# Contexts that describe the runtime, never a request or a person.
SAFE_CONTEXTS = frozenset({"runtime", "os", "trace", "device", "app", "culture", "cloud_resource"})
# Header names (lower case) that carry credentials, signatures or addresses.
_SECRET_HEADER = re.compile(
    r"auth|token|signature|cookie|key|secret|session|forwarded|real-ip|client-ip|api"
)
# Keys whose values are personal wherever they appear (tags, request fields).
PERSONAL_KEYS = frozenset(
    {
        "text",
        "body",
        "content",
        "phone",
        "phone_number",
        "name",
        "email",
        "personal",
        "wa_id",
        "ip_address",
        "user",
        "username",
    }
)
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+")
# Seven digits or more, possibly with the separators phone numbers are written with.
_PHONE = re.compile(r"\+?\d(?:[\s().-]*\d){6,}")


def redact_text(text: str) -> str:
    """Free text with email addresses and phone-number-like digit runs removed."""
    return _PHONE.sub(REDACTED, _EMAIL.sub(REDACTED, text))


def scrub_event(event: Mapping[str, Any], hint: object = None) -> dict[str, Any]:
    """A copy of a Sentry event (or transaction) safe to send."""
    out: dict[str, Any] = {
        key: value
        for key, value in event.items()
        if key not in {"user", "extra", "request", "breadcrumbs", "contexts", "tags"}
    }
    if isinstance(event.get("request"), Mapping):
        out["request"] = _request(event["request"])
    if isinstance(event.get("tags"), Mapping):
        out["tags"] = {k: v for k, v in event["tags"].items() if k.lower() not in PERSONAL_KEYS}
    if isinstance(event.get("contexts"), Mapping):
        out["contexts"] = {k: v for k, v in event["contexts"].items() if k in SAFE_CONTEXTS}
    crumbs = event.get("breadcrumbs")
    values = crumbs.get("values") if isinstance(crumbs, Mapping) else crumbs
    if isinstance(values, list):
        out["breadcrumbs"] = {"values": [_breadcrumb(c) for c in values if isinstance(c, Mapping)]}
    for key in ("exception", "threads"):
        if isinstance(event.get(key), Mapping):
            out[key] = _exceptions(event[key])
    if isinstance(event.get("logentry"), Mapping):
        message = event["logentry"].get("message")
        out["logentry"] = {"message": redact_text(message) if isinstance(message, str) else ""}
    if isinstance(event.get("message"), str):
        out["message"] = redact_text(event["message"])
    if isinstance(event.get("spans"), list):
        out["spans"] = [_span(s) for s in event["spans"] if isinstance(s, Mapping)]
    if isinstance(event.get("transaction"), str):
        out["transaction"] = redact_text(event["transaction"])
    return out


def scrub_breadcrumb(crumb: Mapping[str, Any], hint: object = None) -> dict[str, Any]:
    """A breadcrumb as it may be recorded (Sentry's ``before_breadcrumb``)."""
    return _breadcrumb(crumb)


def _request(request: Mapping[str, Any]) -> dict[str, Any]:
    """Method and URL (without its query string); headers without credentials; no body,
    cookies or query (a verify token travels there)."""
    kept: dict[str, Any] = {}
    if isinstance(request.get("method"), str):
        kept["method"] = request["method"]
    if isinstance(request.get("url"), str):
        kept["url"] = redact_text(request["url"].split("?", 1)[0])
    headers = request.get("headers")
    if isinstance(headers, Mapping):
        kept["headers"] = {
            name: redact_text(str(value))
            for name, value in headers.items()
            if isinstance(name, str)
            and not _SECRET_HEADER.search(name.lower())
            and name.lower() not in PERSONAL_KEYS
        }
    return kept


def _breadcrumb(crumb: Mapping[str, Any]) -> dict[str, Any]:
    """When and what kind of thing happened; not its message or data (URLs, log fields)."""
    return {k: crumb[k] for k in ("type", "category", "level", "timestamp") if k in crumb}


def _exceptions(container: Mapping[str, Any]) -> dict[str, Any]:
    values = container.get("values")
    if not isinstance(values, list):
        return {}
    return {"values": [_exception(v) for v in values if isinstance(v, Mapping)]}


def _exception(value: Mapping[str, Any]) -> dict[str, Any]:
    """The exception's type and stack, never its message: messages quote data."""
    out = {k: v for k, v in value.items() if k not in {"value", "stacktrace"}}
    if "value" in value:
        out["value"] = REDACTED
    stack = value.get("stacktrace")
    if isinstance(stack, Mapping) and isinstance(stack.get("frames"), list):
        frames = [
            {k: v for k, v in frame.items() if k != "vars"}
            for frame in stack["frames"]
            if isinstance(frame, Mapping)
        ]
        out["stacktrace"] = {**{k: v for k, v in stack.items() if k != "frames"}, "frames": frames}
    return out


def _span(span: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in span.items() if k not in {"data", "tags", "description"}}
    if isinstance(span.get("description"), str):
        out["description"] = redact_text(span["description"])
    return out
