"""A forced error in ingest reaches Sentry (a local receiver of its envelope endpoint) with
its tags, and without any personal field."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import sentry_sdk
import structlog
from fastapi.testclient import TestClient
from pydantic import SecretStr

from datakeys.testing import in_memory_keyring
from ingest.app import build_ingest, create_app
from ingest.testing import InMemoryEventLog, whatsapp_headers, whatsapp_text_body
from schemas.events import Event
from switchboard import logs
from switchboard.retrying import until_done
from switchboard.scrub import message_ids
from switchboard.sentry import init_sentry
from switchboard.settings import Settings
from tests.fakes.outbound_actions import reply
from tests.integration.sentry_receiver import Receiver, envelope_items

pytestmark = pytest.mark.integration

SECRET = "sentry-test-whatsapp-secret"
TEXT = "MARKERTEXT where is my parcel"
PHONE = "15557654321"
NAME = "Gwendolyn Marker"
REQUEST_ID = "req-sentry-0001"


class FailingLog(InMemoryEventLog):
    """An event log that breaks with a message quoting the customer (as real errors do)."""

    async def append(self, events: Sequence[Event]) -> None:
        raise RuntimeError(f"could not write {TEXT} from {PHONE} ({NAME})")


def test_a_forced_error_arrives_tagged_and_without_personal_data(receiver: Receiver) -> None:
    """The 500 is reported with the request's correlation id; no text, phone or name."""
    port = receiver.server_address[1]
    settings = Settings(
        sentry_dsn=SecretStr(f"http://publickey@127.0.0.1:{port}/42"),
        whatsapp_app_secret=(SecretStr(SECRET),),
    )
    assert init_sentry(settings, "ingest")
    body = whatsapp_text_body(wamid="wamid.sentry-1", phone=PHONE, text=TEXT, name=NAME)
    with TestClient(
        create_app(build_ingest(settings, FailingLog(), in_memory_keyring())),
        raise_server_exceptions=False,
    ) as client:
        headers = {**whatsapp_headers(SECRET, body), "X-Request-ID": REQUEST_ID}
        assert client.post("/webhooks/whatsapp", content=body, headers=headers).status_code == 500
    sentry_sdk.flush(timeout=10)

    assert receiver.envelopes, "nothing reached the receiver"
    assert all(path == "/api/42/envelope/" for path, _ in receiver.envelopes)
    events = [
        item
        for _, envelope in receiver.envelopes
        for item in envelope_items(envelope)
        if item.get("exception")
    ]
    assert len(events) == 1
    (event,) = events
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["tags"]["correlation_id"] == REQUEST_ID
    assert event["tags"]["component"] == "ingest"
    raw = b"".join(envelope for _, envelope in receiver.envelopes)
    for personal in (TEXT, "MARKERTEXT", PHONE, NAME, "Marker", SECRET):
        assert personal.encode() not in raw, personal


async def test_an_agent_error_is_reported_with_the_events_ids(receiver: Receiver) -> None:
    """A failure retried by an agent arrives tagged with the agent, the event id, the
    conversation key, the correlation id and the record's partition and offset; its message
    (quoting the customer) does not."""
    port = receiver.server_address[1]
    assert init_sentry(Settings(sentry_dsn=SecretStr(f"http://k@127.0.0.1:{port}/7")), "worker")
    action = reply("whatsapp-cloud", action_id="reply:wa:wamid.sentry")
    logs.bind_event(action, partition=0, offset=17)
    failures = [RuntimeError(f"refused {TEXT} for {PHONE}")]

    async def operation() -> None:
        if failures:
            raise failures.pop()

    async def no_pause(_: float) -> None:
        return None

    try:
        await until_done("deliver", sleep=no_pause)(operation)
    finally:
        structlog.contextvars.clear_contextvars()
    sentry_sdk.flush(timeout=10)

    events = [
        item
        for _, envelope in receiver.envelopes
        for item in envelope_items(envelope)
        if item.get("exception")
    ]
    assert len(events) == 1
    tags = events[0]["tags"]
    assert tags["agent"] == "deliver"
    assert tags["component"] == "worker"
    assert tags["event_id"] == message_ids("reply:wa:wamid.sentry")  # a digest of the wamid
    assert tags["conversation_key"] == "conversation-key"
    assert tags["correlation_id"] == "correlation-1"
    assert (tags["kafka_partition"], tags["kafka_offset"]) == ("0", "17")
    raw = b"".join(envelope for _, envelope in receiver.envelopes)
    assert TEXT.encode() not in raw
    assert PHONE.encode() not in raw


def test_a_contact_in_the_url_reaches_no_trace(receiver: Receiver) -> None:
    """Traced erasure requests naming a BSUID in the path (one answered by its route, one
    refused by the rate limit before routing, so named by its raw URL) and in the body: the
    transactions arrive, the BSUID in none of them."""
    port = receiver.server_address[1]
    settings = Settings(
        sentry_dsn=SecretStr(f"http://publickey@127.0.0.1:{port}/42"),
        sentry_traces_sample_rate=1.0,
        switchboard_compliance_client_per_minute=2,
        database_url=SecretStr("postgresql://nobody@127.0.0.1:9/nowhere"),
    )
    assert init_sentry(settings, "ingest")
    bsuid = "US.MarkerAbCdEf9"
    with TestClient(
        create_app(build_ingest(settings, InMemoryEventLog(), in_memory_keyring()))
    ) as client:
        confirm = {"confirmation": True}
        path = f"/gdpr/contacts/bsuid:{bsuid}"
        body = {"contact": f"bsuid:{bsuid}", **confirm}
        assert client.post("/gdpr/erasure", json=body).status_code == 401
        assert client.request("DELETE", path, json=confirm).status_code == 401
        assert client.request("DELETE", path, json=confirm).status_code == 429
    sentry_sdk.flush(timeout=10)

    items = [item for _, envelope in receiver.envelopes for item in envelope_items(envelope)]
    names = {item["transaction"] for item in items if item.get("type") == "transaction"}
    assert names == {
        "/gdpr/erasure",
        "/gdpr/contacts/{contact_id:path}",
        "http://testserver/gdpr/contacts/[redacted]",
    }
    raw = b"".join(envelope for _, envelope in receiver.envelopes)
    assert b"MarkerAbCdEf9" not in raw
