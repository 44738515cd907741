"""Error reports leave without personal data or credentials, whatever the event holds."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from switchboard.scrub import REDACTED, redact_text, scrub_breadcrumb, scrub_event

# Personal values: a message text, a name, a phone number, an email, a token.
marker = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=12, max_size=20).map(
    lambda s: f"SECRET{s}"
)
phones = st.from_regex(r"\+?[1-9][0-9]{9,13}", fullmatch=True)
emails = st.from_regex(r"[a-z]{3,10}@[a-z]{3,10}\.(com|org|de)", fullmatch=True)


def _event(text: str, phone: str, email: str) -> dict[str, Any]:
    """A Sentry event with personal data everywhere Sentry puts request and frame data."""
    return {
        "event_id": "abc",
        "level": "error",
        "platform": "python",
        "message": f"failed for {phone} / {email}",
        "logentry": {"message": f"customer {email} wrote", "params": [text, phone]},
        "user": {"id": phone, "email": email, "ip_address": "203.0.113.9", "username": text},
        "extra": {"text": text, "phone": phone},
        "tags": {"component": "ingest", "correlation_id": "c0ffee", "email": email},
        "contexts": {
            "runtime": {"name": "CPython", "version": "3.11"},
            "response": {"headers": {"x": text}},
            "personal": {"text": text},
        },
        "request": {
            "method": "POST",
            "url": f"http://ingest/webhooks/whatsapp?hub.verify_token={text}",
            "query_string": f"hub.verify_token={text}",
            "data": {"entry": [{"text": {"body": text}, "from": phone}]},
            "cookies": {"session": text},
            "env": {"REMOTE_ADDR": "203.0.113.9"},
            "headers": {
                "Content-Type": "application/json",
                "X-Hub-Signature-256": f"sha256={text}",
                "Authorization": f"Bearer {text}",
                "api_access_token": text,
                "X-Chatwoot-Signature": text,
                "X-Forwarded-For": "203.0.113.9",
                "Cookie": f"s={text}",
                "User-Agent": f"agent {email}",
            },
        },
        "breadcrumbs": {
            "values": [
                {
                    "type": "http",
                    "category": "httpx",
                    "level": "info",
                    "timestamp": "2026-11-26T00:00:00Z",
                    "message": f"POST https://graph.facebook.com/{phone}/messages",
                    "data": {"url": f"https://x/{phone}", "body": text},
                }
            ]
        },
        "exception": {
            "values": [
                {
                    "type": "RuntimeError",
                    "value": f"could not send {text} to {phone}",
                    "module": None,
                    "mechanism": {"type": "starlette", "handled": False},
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": "ingest/webhooks.py",
                                "function": "accept",
                                "lineno": 10,
                                "vars": {"body": text, "phone": phone, "email": email},
                            }
                        ]
                    },
                }
            ]
        },
        "spans": [{"op": "http.client", "description": f"GET /{phone}", "data": {"b": text}}],
    }


@given(text=marker, phone=phones, email=emails)
def test_no_personal_value_survives(text: str, phone: str, email: str) -> None:
    """Message text, phone numbers, emails, names, tokens and addresses are all gone."""
    sent = json.dumps(scrub_event(_event(text, phone, email)))
    for value in (text, phone, email, "203.0.113.9"):
        assert value not in sent


@given(text=marker, phone=phones, email=emails)
def test_what_helps_debugging_stays(text: str, phone: str, email: str) -> None:
    """The exception type, stack, our tags, the route and the runtime are kept."""
    scrubbed = scrub_event(_event(text, phone, email))
    (exception,) = scrubbed["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert exception["value"] == REDACTED
    assert exception["stacktrace"]["frames"][0]["function"] == "accept"
    assert "vars" not in exception["stacktrace"]["frames"][0]
    assert scrubbed["tags"] == {"component": "ingest", "correlation_id": "c0ffee"}
    assert scrubbed["request"]["url"] == "http://ingest/webhooks/whatsapp"
    assert scrubbed["request"]["headers"]["Content-Type"] == "application/json"
    assert scrubbed["contexts"] == {"runtime": {"name": "CPython", "version": "3.11"}}
    assert scrubbed["breadcrumbs"]["values"][0]["category"] == "httpx"


@given(
    st.dictionaries(
        st.text(max_size=10),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner),
            max_leaves=10,
        ),
        max_size=8,
    )
)
def test_any_payload_is_accepted(event: dict[str, Any]) -> None:
    """Odd shapes never make the scrubber fail (an error report must not raise)."""
    scrubbed = scrub_event(event)
    assert "user" not in scrubbed
    assert "extra" not in scrubbed


def test_the_input_is_left_alone() -> None:
    """Pure: the event given is not changed."""
    event = _event("SECRETTEXTXXXXXXXX", "15551234567", "a@b.de")
    before = json.dumps(event, sort_keys=True)
    scrub_event(event)
    assert json.dumps(event, sort_keys=True) == before


def test_breadcrumbs_lose_message_and_data() -> None:
    """A breadcrumb keeps when and what kind, not the URL or log fields."""
    crumb = {"category": "httpx", "message": "GET /15551234567", "data": {"url": "x"}}
    assert scrub_breadcrumb(crumb) == {"category": "httpx"}


def test_redact_text_keeps_short_numbers_and_words() -> None:
    """Status codes and counts stay; phone numbers and emails go."""
    assert redact_text("HTTP 503 after 3 tries") == "HTTP 503 after 3 tries"
    assert redact_text("call +49 151 2345 6789 or ann@example.org") == (
        f"call {REDACTED} or {REDACTED}"
    )
