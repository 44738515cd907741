"""Error reports leave without personal data or credentials, whatever the event holds."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from switchboard.scrub import REDACTED, message_ids, redact_text, scrub_breadcrumb, scrub_event

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


# Contacts as the compliance API takes them (ingest/compliance/identities.py).
phone_values = st.builds(
    lambda prefix, digits, sep: prefix + sep.join([digits[:3], digits[3:]]),
    st.sampled_from(["+", "00", ""]),
    st.from_regex(r"[1-9][0-9]{5,14}", fullmatch=True),
    st.sampled_from(["", " ", "-", " (", "/"]),
)
bsuid_values = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}", fullmatch=True)
chatwoot_values = st.builds(lambda a, c: f"{a}/{c}", st.integers(1, 10**6), st.integers(1, 10**9))
identities = st.one_of(
    st.tuples(st.just("phone"), phone_values),
    st.tuples(st.just("bsuid"), bsuid_values),
    st.tuples(st.just("chatwoot"), chatwoot_values),
    st.tuples(st.sampled_from(["wa_id", "user_id"]), st.from_regex(r"[0-9]{8,15}", fullmatch=True)),
)


@given(identity=identities, encoded=st.booleans())
def test_a_contact_named_in_text_is_removed_whatever_its_form(
    identity: tuple[str, str], encoded: bool
) -> None:
    """`phone:+49…`, `bsuid:US.…`, `chatwoot:3/1001` and provider id fields, as typed or
    percent-encoded (a URL): only the kind is left."""
    kind, value = identity
    separator = "%3A" if encoded else ":"
    shown = quote(value, safe="") if encoded else value
    text = f"could not erase {kind}{separator}{shown} today"
    assert redact_text(text) == f"could not erase {kind}{separator}{REDACTED} today"


@given(identity=identities, encoded=st.booleans())
def test_a_contact_in_the_erasure_path_never_reaches_a_report(
    identity: tuple[str, str], encoded: bool
) -> None:
    """`DELETE /gdpr/contacts/<contact>`: neither the transaction's name (a raw URL when the
    request was refused before routing) nor the request's URL keeps the contact."""
    contact = f"{identity[0]}:{identity[1]}"
    path = "/gdpr/contacts/" + (quote(contact, safe="") if encoded else contact)
    event = {
        "type": "transaction",
        "transaction": f"http://ingest{path}",
        "request": {"method": "DELETE", "url": f"http://ingest{path}?x=1"},
        "spans": [{"op": "http.server", "description": f"DELETE {path}"}],
    }
    scrubbed = scrub_event(event)
    assert scrubbed["transaction"] == f"http://ingest/gdpr/contacts/{REDACTED}"
    assert scrubbed["request"]["url"] == f"http://ingest/gdpr/contacts/{REDACTED}"
    assert scrubbed["spans"][0]["description"] == f"DELETE /gdpr/contacts/{REDACTED}"


def test_identities_without_a_name_are_removed_too() -> None:
    """A bare BSUID, a WhatsApp message id (its base64 spells the phone number) and a
    Chatwoot contact in an API path."""
    assert redact_text("from US.AbCdEf0123 at 10:00") == f"from {REDACTED} at 10:00"
    assert redact_text("wa:wamid.HBgLMTU1NTEyMzQ1NjcVAgASGBQzQTg=") == f"wa:wamid.{REDACTED}"
    assert redact_text("PUT /api/v1/accounts/3/contacts/1001/labels") == (
        f"PUT /api/v1/accounts/3/contacts/{REDACTED}/labels"
    )


def test_route_templates_and_our_words_stay() -> None:
    """A matched route's template names the transaction and is kept; module paths too."""
    event = {"transaction": "/gdpr/contacts/{contact_id:path}", "message": "ingest.compliance"}
    assert scrub_event(event) == event


def test_sentry_tags_carry_message_ids_as_digests() -> None:
    """The event id a report is tagged with names the message by a digest, not its wamid."""
    wamid = "wamid.HBgLMTU1NTEyMzQ1NjcVAgASGBQzQUJDMTIzNDU2Nzg5MEFCQ0RFRgA="
    scrubbed = scrub_event({"tags": {"event_id": f"wa:{wamid}", "agent": "converse"}})
    assert scrubbed["tags"]["agent"] == "converse"
    assert scrubbed["tags"]["event_id"] == "wa:" + message_ids(wamid)
    assert "HBgLMTU1NTEyMzQ1Njc" not in str(scrubbed)
