"""What may leave the process in an error report: Sentry's ``before_send``. Pure.

Sentry events carry far more than the exception: the request (body, cookies, headers with
signatures and tokens), local variables of every frame, breadcrumbs with log messages and
HTTP URLs, the user, extra data. Everything that could hold a customer's message, name,
phone number, email or provider identity (a WhatsApp BSUID or message id, a Chatwoot
contact), or a credential, is removed; what stays is the exception's type, the stack (code,
not data), our own tags and the runtime's description. A request refused before routing
(a rate limit, a body limit) names its transaction by its raw URL, so URLs and transaction
names are redacted like free text.
"""

from __future__ import annotations

import hashlib
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
        "contact",
        "bsuid",
        "user_id",
        "identifier",
    }
)
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+")
# Seven digits or more, possibly with the separators phone numbers are written with.
_PHONE = re.compile(r"\+?\d(?:[\s().-]*\d){6,}")
# A contact named the way the compliance API and CLI take it (ingest/compliance/identities.py)
# or a provider field name, in plain text or percent-encoded (a URL): `phone:+49…`,
# `bsuid:US.AbC…`, `chatwoot:3/1001`, `wa_id=…`, `bsuid%3AUS.…`. The value runs to the next
# space, quote or URL delimiter, so a Chatwoot reference's `/` goes with it.
_NAMED = re.compile(
    r"(?i)\b(phone|bsuid|chatwoot|wa_id|user_id|from_user_id|recipient_id|identifier)"
    r"(:|%3A|=|%3D)[^\s?#&\"',;<>]+"
)
# A phone number after `phone:` may be written with spaces (`phone:+49 151 2345678`).
_NAMED_PHONE = re.compile(r"(?i)\bphone(:|%3A)\s*(?:\+|%2B)?\d(?:[\s().-]*\d)*")
# A BSUID on its own: country code, dot, id (`US.13491208655302741918`).
_BSUID = re.compile(r"\b[A-Z]{2}\.[A-Za-z0-9_-]{6,}")
# A WhatsApp message id: its base64 spells the sender's phone number.
_WAMID = re.compile(r"\bwamid\.[A-Za-z0-9_=+/-]+")
# The path segment after a contacts collection is a contact: the compliance API's
# deprecated `/gdpr/contacts/{contact}`, Chatwoot's `/accounts/3/contacts/1001`. A route
# template (`{contact_id:path}`, a transaction's name) stays.
_CONTACT_PATH = re.compile(r"(?i)(/contacts/)(?!\[redacted\]|\{)[^\s?#/]+")


def redact_text(text: str) -> str:
    """Free text with e-mail addresses, phone numbers and every form of contact identity
    (provider identities named or not, WhatsApp message ids, contacts in URL paths)
    removed."""
    text = _NAMED_PHONE.sub(lambda m: f"phone{m[1]}{REDACTED}", text)
    text = _NAMED.sub(lambda m: f"{m[1]}{m[2]}{REDACTED}", text)
    text = _CONTACT_PATH.sub(lambda m: f"{m[1]}{REDACTED}", text)
    text = _WAMID.sub(f"wamid.{REDACTED}", text)
    text = _BSUID.sub(REDACTED, text)
    return _PHONE.sub(REDACTED, _EMAIL.sub(REDACTED, text))


def message_ids(text: str) -> str:
    """``text`` with each WhatsApp message id replaced by a digest of it (``wamid~`` and 16
    hex digits): the lines and reports about one message still share an id, and the phone
    number its base64 spells is gone. The id's random part makes the digest one-way."""
    if "wamid." not in text:
        return text
    return _WAMID.sub(
        lambda m: "wamid~" + hashlib.blake2b(m[0].encode(), digest_size=8).hexdigest(), text
    )


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
        out["tags"] = {
            k: message_ids(v) if isinstance(v, str) else v
            for k, v in event["tags"].items()
            if k.lower() not in PERSONAL_KEYS
        }
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
