"""The webhook endpoints' answers, with the event log replaced by an in-memory fake."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from datakeys.claims import InMemoryClaims
from datakeys.keyring import KeyRing
from datakeys.testing import in_memory_keyring
from ingest.app import build_ingest, create_app
from ingest.testing import (
    InMemoryEventLog,
    chatwoot_headers,
    dialog360_headers,
    whatsapp_headers,
    whatsapp_text_body,
)
from schemas.events import MessageReceived, SealedPersonal, encode, plain
from switchboard.settings import Settings

WHATSAPP_SECRET = "whatsapp-secret-for-tests"
CHATWOOT_SECRET = "chatwoot-secret-for-tests"
DIALOG_SECRET = "dialog-secret-for-tests"
NOW = 1_764_000_000


def _settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "whatsapp_app_secret": WHATSAPP_SECRET,
        "chatwoot_webhook_secret": f"old-rotated-secret,{CHATWOOT_SECRET}",
        "dialog360_webhook_secret": DIALOG_SECRET,
        "whatsapp_verify_token": "verify-me",
        "rate_limit_per_minute": 1000,
        "switchboard_max_body_bytes": 64 * 1024,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def event_log() -> InMemoryEventLog:
    return InMemoryEventLog()


@pytest.fixture
def keyring() -> KeyRing:
    return in_memory_keyring()


def _client(
    event_log: InMemoryEventLog, keyring: KeyRing | None = None, **overrides: object
) -> Iterator[TestClient]:
    ingest = build_ingest(_settings(**overrides), event_log, keyring or in_memory_keyring())
    ingest.clock = lambda: float(NOW)
    with TestClient(create_app(ingest)) as client:
        yield client


@pytest.fixture
def client(event_log: InMemoryEventLog, keyring: KeyRing) -> Iterator[TestClient]:
    yield from _client(event_log, keyring)


BODY = whatsapp_text_body(wamid="wamid.1", phone="15551234567", text="Hello", name="Ann")


def test_signed_whatsapp_message_is_accepted_and_logged(
    client: TestClient, event_log: InMemoryEventLog
) -> None:
    """A correctly signed message is answered 200 after its event reached the log."""
    response = client.post(
        "/webhooks/whatsapp", content=BODY, headers=whatsapp_headers(WHATSAPP_SECRET, BODY)
    )
    assert response.status_code == 200
    assert response.json() == {"status": "accepted", "events": 1, "ignored": 0}
    assert [e.id for e in event_log.events] == ["wa:wamid.1"]


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "missing X-Hub-Signature-256 header"),
        ({"X-Hub-Signature-256": "sha256=" + "0" * 64}, "X-Hub-Signature-256 does not match"),
        ({"X-Hub-Signature-256": "sha256=abc"}, "malformed X-Hub-Signature-256 header"),
        ({"X-Hub-Signature-256": "md5=" + "0" * 64}, "malformed X-Hub-Signature-256 header"),
    ],
)
def test_bad_whatsapp_signatures_are_refused_with_403(
    client: TestClient, event_log: InMemoryEventLog, headers: dict[str, str], detail: str
) -> None:
    """Missing, wrong, truncated or mis-prefixed signatures get 403 and write nothing."""
    response = client.post(
        "/webhooks/whatsapp", content=BODY, headers={"Content-Type": "application/json", **headers}
    )
    assert response.status_code == 403
    assert response.json() == {"detail": detail}
    assert event_log.events == []


def test_signature_over_reserialised_json_is_refused(client: TestClient) -> None:
    """The signature covers the raw bytes: the same JSON re-serialised does not verify."""
    reserialised = json.dumps(json.loads(BODY), separators=(",", ":")).encode()
    response = client.post(
        "/webhooks/whatsapp", content=reserialised, headers=whatsapp_headers(WHATSAPP_SECRET, BODY)
    )
    assert response.status_code == 403


def test_malformed_json_gets_400(client: TestClient, event_log: InMemoryEventLog) -> None:
    """A well-signed body that is not JSON is refused with 400."""
    body = b'{"object": "whatsapp_business_account", '
    response = client.post(
        "/webhooks/whatsapp", content=body, headers=whatsapp_headers(WHATSAPP_SECRET, body)
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("malformed JSON")
    assert event_log.events == []


def test_deeply_nested_json_gets_400_not_500(client: TestClient) -> None:
    """A recursion bomb is malformed input, not a server error."""
    body = b"[" * 100_000 + b"]" * 100_000
    response = client.post(
        "/webhooks/whatsapp", content=body, headers=whatsapp_headers(WHATSAPP_SECRET, body)
    )
    assert response.status_code in (400, 413)


def test_oversized_body_gets_413_before_signature_check(client: TestClient) -> None:
    """A body over the limit is refused with 413 whatever its signature."""
    body = b'{"pad": "' + b"x" * (64 * 1024) + b'"}'
    response = client.post(
        "/webhooks/whatsapp", content=body, headers=whatsapp_headers(WHATSAPP_SECRET, body)
    )
    assert response.status_code == 413


def test_an_event_over_a_kafka_record_gets_413_not_a_retry(event_log: InMemoryEventLog) -> None:
    """A body within the limit whose sealed event exceeds a record is refused for good."""
    body = whatsapp_text_body(wamid="wamid.big", phone="15551234567", text="x" * 1_100_000)
    for client in _client(event_log, switchboard_max_body_bytes=3 * 1024 * 1024):
        response = client.post(
            "/webhooks/whatsapp", content=body, headers=whatsapp_headers(WHATSAPP_SECRET, body)
        )
        assert response.status_code == 413
        assert "exceeds the log's" in response.json()["detail"]
        assert event_log.events == []


def test_chunked_oversized_body_gets_413(client: TestClient) -> None:
    """A body without Content-Length is cut off once it passes the limit."""

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x" * 4096

    response = client.post(
        "/webhooks/whatsapp",
        content=chunks(),
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + "0" * 64},
    )
    assert response.status_code == 413


def test_wrong_content_type_gets_415(client: TestClient) -> None:
    """Only application/json bodies are read."""
    response = client.post(
        "/webhooks/whatsapp",
        content=BODY,
        headers={**whatsapp_headers(WHATSAPP_SECRET, BODY), "Content-Type": "text/plain"},
    )
    assert response.status_code == 415


def test_unknown_but_signed_shape_is_acknowledged_and_counted(
    client: TestClient, event_log: InMemoryEventLog
) -> None:
    """A signed body of a shape we do not know gets 202, is counted, and logs nothing."""
    body = b'{"object": "page", "entry": []}'
    response = client.post(
        "/webhooks/whatsapp", content=body, headers=whatsapp_headers(WHATSAPP_SECRET, body)
    )
    assert response.status_code == 202
    assert event_log.events == []
    metrics = client.get("/metrics").text
    assert (
        'switchboard_webhook_requests_total{outcome="unrecognised",provider="whatsapp"} 1.0'
        in metrics
    )


def test_broker_unavailable_gets_503_with_retry_after(
    client: TestClient, event_log: InMemoryEventLog
) -> None:
    """When the log does not acknowledge, the sender is told to retry; never 200."""
    event_log.available = False
    response = client.post(
        "/webhooks/whatsapp", content=BODY, headers=whatsapp_headers(WHATSAPP_SECRET, BODY)
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    metrics = client.get("/metrics").text
    assert 'outcome="broker_unavailable",provider="whatsapp"} 1.0' in metrics


async def test_personal_data_is_sealed_before_it_reaches_the_log(
    client: TestClient, event_log: InMemoryEventLog, keyring: KeyRing
) -> None:
    """What is appended carries the text and phone sealed; the contact's key opens it."""
    response = client.post(
        "/webhooks/whatsapp", content=BODY, headers=whatsapp_headers(WHATSAPP_SECRET, BODY)
    )
    assert response.status_code == 200
    (event,) = event_log.events
    assert isinstance(event, MessageReceived)
    assert isinstance(event.data.personal, SealedPersonal)
    raw = encode(event)
    assert b"Hello" not in raw
    assert b"15551234567" not in raw
    assert b"Ann" not in raw
    opened = await keyring.open(event)
    assert isinstance(opened, MessageReceived)
    assert plain(opened.data.personal).text == "Hello"


def test_a_new_contact_without_a_key_source_gets_503_and_nothing_is_written(
    client: TestClient, event_log: InMemoryEventLog, keyring: KeyRing
) -> None:
    """PostgreSQL away: a new contact's key cannot be claimed, so 503 with Retry-After."""
    assert isinstance(keyring.claims, InMemoryClaims)
    keyring.claims.available = False
    response = client.post(
        "/webhooks/whatsapp", content=BODY, headers=whatsapp_headers(WHATSAPP_SECRET, BODY)
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert event_log.events == []
    assert 'outcome="keys_unavailable",provider="whatsapp"} 1.0' in client.get("/metrics").text


def test_a_known_contact_needs_no_claim(
    client: TestClient, event_log: InMemoryEventLog, keyring: KeyRing
) -> None:
    """Once a contact has a key, its messages are sealed without touching the claims."""
    headers = whatsapp_headers(WHATSAPP_SECRET, BODY)
    assert client.post("/webhooks/whatsapp", content=BODY, headers=headers).status_code == 200
    assert isinstance(keyring.claims, InMemoryClaims)
    keyring.claims.available = False
    later = whatsapp_text_body(wamid="wamid.2", phone="15551234567", text="Again", name="Ann")
    headers = whatsapp_headers(WHATSAPP_SECRET, later)
    assert client.post("/webhooks/whatsapp", content=later, headers=headers).status_code == 200
    assert len(event_log.events) == 2


def test_every_outcome_is_counted_by_provider(client: TestClient) -> None:
    """Accepted and refused requests each increment their own counter series."""
    client.post("/webhooks/whatsapp", content=BODY, headers=whatsapp_headers(WHATSAPP_SECRET, BODY))
    client.post("/webhooks/whatsapp", content=BODY, headers={"Content-Type": "application/json"})
    metrics = client.get("/metrics").text
    assert 'outcome="accepted",provider="whatsapp"} 1.0' in metrics
    assert 'outcome="bad_signature",provider="whatsapp"} 1.0' in metrics


def test_rate_limited_client_gets_429_with_retry_after(event_log: InMemoryEventLog) -> None:
    """Past the per-minute budget a client is refused quickly with Retry-After."""
    for client in _client(event_log, rate_limit_per_minute=2):
        codes = [
            client.post(
                "/webhooks/whatsapp", content=BODY, headers=whatsapp_headers(WHATSAPP_SECRET, BODY)
            ).status_code
            for _ in range(3)
        ]
        assert codes == [200, 200, 429]
        refused = client.post(
            "/webhooks/whatsapp", content=BODY, headers=whatsapp_headers(WHATSAPP_SECRET, BODY)
        )
        assert int(refused.headers["Retry-After"]) >= 1


def test_chatwoot_signature_with_rotated_secrets(client: TestClient) -> None:
    """Any configured Chatwoot secret verifies; a stale timestamp does not."""
    body = b'{"event": "conversation_typing_on"}'
    fresh = chatwoot_headers(CHATWOOT_SECRET, body, timestamp=NOW)
    old_secret = chatwoot_headers("old-rotated-secret", body, timestamp=NOW)
    stale = chatwoot_headers(CHATWOOT_SECRET, body, timestamp=NOW - 301)
    assert client.post("/webhooks/chatwoot", content=body, headers=fresh).status_code == 200
    assert client.post("/webhooks/chatwoot", content=body, headers=old_secret).status_code == 200
    refused = client.post("/webhooks/chatwoot", content=body, headers=stale)
    assert refused.status_code == 403
    assert "window" in refused.json()["detail"]
    metrics = client.get("/metrics").text
    assert 'outcome="stale_timestamp",provider="chatwoot"} 1.0' in metrics


def test_360dialog_header_secret(client: TestClient, event_log: InMemoryEventLog) -> None:
    """360dialog requests carry the registered header; without it they are refused."""
    ok = client.post(
        "/webhooks/360dialog",
        content=BODY,
        headers=dialog360_headers("X-Switchboard-Token", DIALOG_SECRET),
    )
    wrong = client.post(
        "/webhooks/360dialog",
        content=BODY,
        headers=dialog360_headers("X-Switchboard-Token", "nope"),
    )
    assert (ok.status_code, wrong.status_code) == (200, 403)
    assert [e.source for e in event_log.events] == ["360dialog"]


def test_whatsapp_subscription_handshake(client: TestClient) -> None:
    """Meta's GET handshake echoes the challenge only for the right verify token."""
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": "verify-me",
        "hub.challenge": "1158201444",
    }
    assert client.get("/webhooks/whatsapp", params=params).text == "1158201444"
    wrong = client.get("/webhooks/whatsapp", params={**params, "hub.verify_token": "x"})
    assert wrong.status_code == 403


def test_disabled_provider_answers_404(event_log: InMemoryEventLog) -> None:
    """A provider left out of SWITCHBOARD_PROVIDERS has no endpoint."""
    for client in _client(event_log, switchboard_providers="chatwoot"):
        response = client.post(
            "/webhooks/whatsapp", content=BODY, headers=whatsapp_headers(WHATSAPP_SECRET, BODY)
        )
        assert response.status_code == 404


def test_health(client: TestClient) -> None:
    """The process answers its health check."""
    assert client.get("/health").json() == {"status": "healthy"}


def test_request_id_is_returned(client: TestClient, event_log: InMemoryEventLog) -> None:
    """A caller's X-Request-ID is carried through and echoed; it becomes the correlation id."""
    response = client.post(
        "/webhooks/whatsapp",
        content=BODY,
        headers={**whatsapp_headers(WHATSAPP_SECRET, BODY), "X-Request-ID": "req-42"},
    )
    assert response.headers["X-Request-ID"] == "req-42"
    assert [e.correlation_id for e in event_log.events] == ["req-42"]


def test_unrepresentable_text_is_refused_whole(
    client: TestClient, event_log: InMemoryEventLog
) -> None:
    """A lone surrogate parses as JSON but cannot be written: 400, and nothing is logged."""
    body = whatsapp_text_body(wamid="wamid.s", phone="15551234567", text="x").replace(
        b'"x"', b'"\\ud800"'
    )
    response = client.post(
        "/webhooks/whatsapp", content=body, headers=whatsapp_headers(WHATSAPP_SECRET, body)
    )
    assert response.status_code == 400
    assert event_log.events == []
