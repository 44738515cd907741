"""The compliance API against the real PostgreSQL and Kafka: keys, scopes, audit, consent,
export links and erasure requests, rate limits, counted refusals and whose requests a key
may read; and the contact identities the sink records."""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer
from fastapi.testclient import TestClient

from datakeys.build import build_keyring
from ingest.app import build_ingest, create_app
from ingest.compliance import apikeys
from ingest.compliance.keystore import KeyStore
from ingest.compliance.refusals import window_start
from ingest.testing import whatsapp_headers, whatsapp_text_body
from schemas.catalogue import CONTACT_EVENTS
from schemas.events import (
    ConsentChanged,
    ErasureRequested,
    Event,
    ExportRequested,
    SealedPersonal,
    decode,
    plain,
)
from schemas.identities import Identity
from schemas.keys import Pseudonymizer
from sinks.export import links
from sinks.postgres.pool import Database, PoolConfig
from switchboard.settings import Settings
from tests.integration.conftest import TEST_SECRET, Worker, eventually, isolated
from tests.integration.stored_customers import chatwoot_customer, whatsapp_customer

pytestmark = pytest.mark.integration

PUBLIC_URL = "https://switchboard.example"
T = TypeVar("T")


@pytest.fixture(scope="module")
def api_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return settings.model_copy(
        update={
            "switchboard_export_dir": tmp_path_factory.mktemp("exports"),
            "switchboard_public_url": PUBLIC_URL,
        }
    )


@pytest.fixture(scope="module")
def client(api_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(build_ingest(api_settings))) as test_client:
        yield test_client


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    db = await Database.connect(
        PoolConfig(settings.database_url.get_secret_value(), size=1, max_overflow=0)
    )
    yield db
    await db.close()


@pytest.fixture
def keys(settings: Settings) -> Pseudonymizer:
    return Pseudonymizer(settings.switchboard_pseudonym_key.get_secret_value().encode())


async def new_key(database: Database, *scopes: str) -> tuple[str, dict[str, str]]:
    """A key with these scopes: its id and the headers that present it."""
    key = apikeys.generate("integration", scopes)
    await KeyStore(database).add(key)
    return key.key_id, {"Authorization": f"Bearer {key.token}"}


async def contact_events(settings: Settings, correlation_id: str) -> list[tuple[bytes, Event]]:
    """Records on the contact-events topic that carry this correlation id."""
    consumer = AIOKafkaConsumer(
        CONTACT_EVENTS.full_name(settings.switchboard_topic_prefix),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    found: list[tuple[bytes, Event]] = []
    try:
        for _ in range(20):
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    if dict(record.headers).get("correlation-id") == correlation_id.encode():
                        found.append((record.key, decode(record.value)))
            if found and not batch:
                break
    finally:
        await consumer.stop()
    return found


async def opened(settings: Settings, database: Database, event: Event) -> Event:
    """The event with its personal data unsealed, as the worker reads it."""

    async def source() -> Database:
        return database

    keyring = build_keyring(settings, source)
    await keyring.start()
    try:
        result = await keyring.open(event)
    finally:
        await keyring.stop()
    assert result is not None
    return result


async def audit_rows(database: Database, actor: str) -> list[dict[str, Any]]:
    async with database.connection() as conn:
        rows = await conn.fetch(
            "SELECT actor, action, subject, outcome, detail FROM audit_log"
            " WHERE actor = $1 ORDER BY id",
            actor,
        )
    return [{**dict(r), "detail": json.loads(r["detail"])} for r in rows]


def _request_id() -> str:
    return f"compliance-{uuid.uuid4().hex}"


# --- the sink's identities --------------------------------------------------------------


async def test_the_sink_records_hashed_identities_of_each_contact(
    database: Database, keys: Pseudonymizer
) -> None:
    """Phone and BSUID map to the BSUID-derived contact id; Chatwoot keeps its reference;
    no column holds the phone number or BSUID."""
    customer = await whatsapp_customer(database, keys)
    reference, chatwoot_contact_id = await chatwoot_customer(database, keys)
    async with database.connection() as conn:
        rows = await conn.fetch(
            "SELECT identity_hash, kind, contact_id, external_ref FROM contact_identities"
            " WHERE contact_id = ANY($1::text[])",
            [customer.contact_id, chatwoot_contact_id],
        )
    found = {(r["kind"], r["identity_hash"], r["contact_id"], r["external_ref"]) for r in rows}
    assert found == {
        ("phone", Identity.of("phone", customer.phone).key(keys), customer.contact_id, None),
        ("bsuid", Identity.of("bsuid", customer.bsuid).key(keys), customer.contact_id, None),
        (
            "chatwoot",
            Identity.of("chatwoot", reference).key(keys),
            chatwoot_contact_id,
            reference,
        ),
    }
    flat = json.dumps([list(r.values()) for r in rows])
    assert customer.phone not in flat
    assert customer.bsuid not in flat


# --- authentication and scopes ----------------------------------------------------------


async def test_missing_invalid_and_revoked_keys_are_refused(
    client: TestClient, database: Database
) -> None:
    """401 with WWW-Authenticate: Bearer; only the revoked key's attempt, which proved the
    secret, is audited under its id (a wrong secret is counted, see below)."""
    missing = client.get("/gdpr/deletions/del_x")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    key_id, headers = await new_key(database, "gdpr:read")
    wrong = headers["Authorization"][:-4] + "AAAA"
    invalid = client.get("/gdpr/deletions/del_x", headers={"Authorization": wrong})
    assert invalid.status_code == 401
    assert invalid.json() == {"detail": "the API key is not valid"}
    await KeyStore(database).revoke(key_id)
    revoked = client.get("/gdpr/deletions/del_x", headers=headers)
    assert revoked.status_code == 401
    assert revoked.headers["WWW-Authenticate"].startswith("Bearer")
    assert "revoked" in revoked.json()["detail"]
    outcomes = [(r["action"], r["outcome"]) for r in await audit_rows(database, key_id)]
    assert outcomes == [("deletion.status", "unauthenticated")]


async def test_a_key_without_the_scope_is_forbidden(client: TestClient, database: Database) -> None:
    """403 naming the scope; audited; the key's last use is recorded."""
    key_id, headers = await new_key(database, "gdpr:read")
    response = client.post(
        "/gdpr/consent",
        headers=headers,
        json={
            "contact": "ct_" + "0" * 32,
            "consent_type": "marketing",
            "granted": True,
            "source": "web_form",
        },
    )
    assert response.status_code == 403
    assert "consent:write" in response.json()["detail"]
    (row,) = await audit_rows(database, key_id)
    assert (row["action"], row["outcome"], row["subject"]) == ("consent.record", "forbidden", None)
    async with database.connection() as conn:
        assert await conn.fetchval("SELECT last_used_at FROM api_keys WHERE key_id = $1", key_id)


async def test_a_body_that_does_not_fit_is_422_and_audited(
    client: TestClient, database: Database
) -> None:
    """With a valid key, a malformed body is refused by the schema and still audited."""
    key_id, headers = await new_key(database, "consent:write")
    response = client.post(
        "/gdpr/consent",
        headers=headers,
        json={"contact": "ct_" + "0" * 32, "consent_type": "newsletter", "granted": "yes"},
    )
    assert response.status_code == 422
    (row,) = await audit_rows(database, key_id)
    assert (row["action"], row["outcome"]) == ("consent.record", "invalid")


# --- consent ----------------------------------------------------------------------------


async def test_consent_by_phone_reaches_the_log_keyed_by_the_contact(
    client: TestClient, database: Database, keys: Pseudonymizer, settings: Settings
) -> None:
    """Given by phone, recorded for the BSUID contact: the event is keyed by its id, comes
    from the api, carries the ip only in personal; the audit names the contact id only."""
    customer = await whatsapp_customer(database, keys)
    key_id, headers = await new_key(database, "consent:write")
    request_id = _request_id()
    response = client.post(
        "/gdpr/consent",
        headers={**headers, "X-Request-ID": request_id},
        json={
            "contact": f"phone:+{customer.phone[:2]} {customer.phone[2:]}",
            "consent_type": "marketing",
            "granted": False,
            "source": "web_form",
            "ip_address": "203.0.113.9",
        },
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "accepted"
    assert body["contact_id"] == customer.contact_id
    ((key, event),) = await contact_events(settings, request_id)
    assert key == customer.contact_id.encode()
    assert isinstance(event, ConsentChanged)
    assert event.id == body["event_id"]
    assert (event.data.origin, event.data.granted, event.data.reason) == ("api", False, "web_form")
    assert isinstance(event.data.personal, SealedPersonal)  # the ip is never on the log in clear
    unsealed = await opened(settings, database, event)
    assert isinstance(unsealed, ConsentChanged)
    assert plain(unsealed.data.personal).ip_address == "203.0.113.9"
    (row,) = await audit_rows(database, key_id)
    assert (row["action"], row["outcome"], row["subject"]) == (
        "consent.record",
        "accepted",
        customer.contact_id,
    )
    assert customer.phone not in json.dumps(row)


async def test_unknown_contacts_are_not_found(client: TestClient, database: Database) -> None:
    """Consent, export and erasure of a contact nothing is held about: 404, audited."""
    key_id, headers = await new_key(database, "consent:write", "gdpr:export", "gdpr:erase")
    nobody = "phone:+15550009999"
    consent = client.post(
        "/gdpr/consent",
        headers=headers,
        json={"contact": nobody, "consent_type": "analytics", "granted": True, "source": "x"},
    )
    export = client.post("/gdpr/export", headers=headers, json={"contact": "ct_" + "f" * 32})
    erase = client.request(
        "DELETE",
        "/gdpr/contacts/chatwoot:3/999999999999",
        headers=headers,
        json={"confirmation": True, "reason": "customer_request"},
    )
    for response in (consent, export, erase):
        assert response.status_code == 404
        assert response.json() == {"detail": "no contact is known by that identifier"}
    rows = await audit_rows(database, key_id)
    assert [(r["outcome"], r["subject"]) for r in rows] == [("not_found", None)] * 3


# --- exports ----------------------------------------------------------------------------


async def test_an_export_request_is_recorded_and_announced(
    client: TestClient, database: Database, keys: Pseudonymizer, settings: Settings
) -> None:
    """202 processing with an expiry a week out; the row and the event exist; the status
    has no link while processing."""
    customer = await whatsapp_customer(database, keys)
    _, headers = await new_key(database, "gdpr:export")
    request_id = _request_id()
    response = client.post(
        "/gdpr/export",
        headers={**headers, "X-Request-ID": request_id},
        json={"contact": f"bsuid:{customer.bsuid}"},
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "processing"
    assert body["estimated_time_minutes"] > 0
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert abs(expires_at - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=1)
    async with database.connection() as conn:
        row = await conn.fetchrow(
            "SELECT contact_id, status, expires_at FROM gdpr_exports WHERE export_id = $1",
            body["export_id"],
        )
    assert row is not None
    assert (row["contact_id"], row["expires_at"]) == (customer.contact_id, expires_at)
    assert row["status"] in {"processing", "completed"}  # see below
    ((key, event),) = await contact_events(settings, request_id)
    assert key == customer.contact_id.encode()
    assert isinstance(event, ExportRequested)
    assert event.data.export_id == body["export_id"]
    status = client.get(f"/gdpr/export/{body['export_id']}/status", headers=headers)
    assert status.status_code == 200
    # A worker in the same session may already have written the archive.
    if status.json()["status"] != "completed":
        assert status.json()["status"] == "processing"
        assert status.json()["download_url"] is None


async def _completed_export(
    client: TestClient, database: Database, keys: Pseudonymizer, export_dir: Path
) -> tuple[str, dict[str, str], bytes]:
    """An export the export writer has finished: its id, headers of a reader, its bytes."""
    customer = await whatsapp_customer(database, keys)
    _, headers = await new_key(database, "gdpr:export", "gdpr:read")
    export_id = client.post(
        "/gdpr/export", headers=headers, json={"contact": customer.contact_id}
    ).json()["export_id"]
    archive = json.dumps({"contact_id": customer.contact_id, "messages": []}).encode()
    path = export_dir / f"{export_id}.json"
    path.write_bytes(archive)
    async with database.connection() as conn:
        await conn.execute(
            "UPDATE gdpr_exports SET status = 'completed', completed_at = now(), path = $2"
            " WHERE export_id = $1",
            export_id,
            str(path),
        )
    return export_id, headers, archive


async def test_a_completed_export_downloads_through_its_signed_link(
    client: TestClient, database: Database, keys: Pseudonymizer, api_settings: Settings
) -> None:
    """The status carries a link under the public URL; the link serves the archive, with no
    API key, and the download is audited against the contact."""
    export_id, headers, archive = await _completed_export(
        client, database, keys, api_settings.switchboard_export_dir
    )
    status = client.get(f"/gdpr/export/{export_id}/status", headers=headers).json()
    assert status["status"] == "completed"
    url = status["download_url"]
    assert url.startswith(f"{PUBLIC_URL}/gdpr/export/{export_id}/download?")
    expires = int(dict(p.split("=") for p in urlsplit(url).query.split("&"))["expires"])
    assert expires <= datetime.fromisoformat(status["expires_at"]).timestamp()
    response = client.get(url.removeprefix(PUBLIC_URL))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == archive
    downloads = [
        r
        for r in await audit_rows(database, "signed-link")
        if r["detail"]["export_id"] == export_id
    ]
    assert [r["outcome"] for r in downloads] == ["served"]


async def test_tampered_expired_and_deleted_links_are_refused(
    client: TestClient, database: Database, keys: Pseudonymizer, api_settings: Settings
) -> None:
    """Tampered or missing signature: 403; past the link's or the export's expiry: 410;
    an export that was deleted: 404."""
    export_id, headers, _ = await _completed_export(
        client, database, keys, api_settings.switchboard_export_dir
    )
    url = client.get(f"/gdpr/export/{export_id}/status", headers=headers).json()["download_url"]
    path = url.removeprefix(PUBLIC_URL)
    query = dict(p.split("=") for p in urlsplit(url).query.split("&"))
    base = f"/gdpr/export/{export_id}/download"
    flipped = ("0" if query["signature"][0] != "0" else "1") + query["signature"][1:]
    tampered = [
        f"{base}?expires={query['expires']}&signature={flipped}",
        f"{base}?expires={int(query['expires']) + 86400}&signature={query['signature']}",
        f"/gdpr/export/exp_other/download?expires={query['expires']}&signature={query['signature']}",
        f"{base}?expires={query['expires']}",
        base,
    ]
    for attempt in tampered:
        response = client.get(attempt)
        assert response.status_code == 403, attempt
        assert "link" in response.json()["detail"]

    key = api_settings.switchboard_export_url_key.get_secret_value().encode()
    past = int(datetime.now(UTC).timestamp()) - 60
    expired = client.get(f"{base}?expires={past}&signature={links.signature(key, export_id, past)}")
    assert expired.status_code == 410
    async with database.connection() as conn:
        await conn.execute(
            "UPDATE gdpr_exports SET expires_at = now() - interval '1 minute' WHERE export_id = $1",
            export_id,
        )
    assert client.get(path).status_code == 410
    assert client.get(f"/gdpr/export/{export_id}/status", headers=headers).json()["status"] == (
        "expired"
    )
    async with database.connection() as conn:
        await conn.execute(
            "UPDATE gdpr_exports SET status = 'deleted', expires_at = now() + interval '1 day'"
            " WHERE export_id = $1",
            export_id,
        )
    assert client.get(path).status_code == 404


# --- erasure ----------------------------------------------------------------------------


async def test_an_erasure_needs_confirmation(
    client: TestClient, database: Database, keys: Pseudonymizer
) -> None:
    """No body, or confirmation false: 400 explaining why; nothing recorded."""
    customer = await whatsapp_customer(database, keys)
    _, headers = await new_key(database, "gdpr:erase")
    url = f"/gdpr/contacts/{customer.contact_id}"
    for body in (None, {"reason": "customer_request"}, {"confirmation": False, "reason": "x"}):
        response = client.request("DELETE", url, headers=headers, json=body)
        assert response.status_code == 400
        assert "confirmation must be true" in response.json()["detail"]
    async with database.connection() as conn:
        count = await conn.fetchval(
            "SELECT count(*) FROM gdpr_deletions WHERE contact_id = $1", customer.contact_id
        )
    assert count == 0


async def test_an_erasure_is_recorded_announced_and_reported(
    client: TestClient, database: Database, keys: Pseudonymizer, settings: Settings
) -> None:
    """By Chatwoot identity: 202 pending with a status URL, an ErasureRequested event keyed by
    the contact; asking again returns the same erasure; the status lists every target."""
    reference, contact_id = await chatwoot_customer(database, keys)
    key_id, headers = await new_key(database, "gdpr:erase")
    request_id = _request_id()
    response = client.request(
        "DELETE",
        f"/gdpr/contacts/chatwoot:{reference}",
        headers={**headers, "X-Request-ID": request_id},
        json={"confirmation": True, "reason": "customer_request"},
    )
    assert response.status_code == 202, response.text
    body = response.json()
    deletion_id = body["deletion_id"]
    assert body["status"] == "pending"
    assert body["contact_id"] == contact_id
    assert body["status_url"] == f"{PUBLIC_URL}/gdpr/deletions/{deletion_id}"
    ((key, event),) = await contact_events(settings, request_id)
    assert key == contact_id.encode()
    assert isinstance(event, ErasureRequested)
    assert (event.data.deletion_id, event.data.requested_by) == (deletion_id, key_id)
    again = client.request(
        "DELETE",
        f"/gdpr/contacts/{contact_id}",
        headers=headers,
        json={"confirmation": True, "reason": "customer_request"},
    )
    assert again.status_code == 202
    assert again.json()["deletion_id"] == deletion_id

    # Targets of names the session's worker (which may be carrying this erasure out) never
    # writes, so the report shows exactly what was stored.
    async with database.connection() as conn:
        await conn.execute(
            "INSERT INTO gdpr_deletion_targets (deletion_id, target, status, attempts,"
            " completed_at) VALUES ($1, 'data_key', 'completed', 1, now()),"
            " ($1, 'crm', 'failed', 2, NULL)",
            deletion_id,
        )
        await conn.execute(
            "UPDATE gdpr_deletion_targets SET last_error = 'http_503'"
            " WHERE deletion_id = $1 AND target = 'crm'",
            deletion_id,
        )
    _, officer = await new_key(database, "gdpr:read-all")
    status = client.get(f"/gdpr/deletions/{deletion_id}", headers=officer)
    assert status.status_code == 200
    report = status.json()
    assert (report["contact_id"], report["reason"]) == (contact_id, "customer_request")
    assert report["status"] in {"pending", "in_progress"}  # a failed target keeps it open
    targets = {t["target"]: t for t in report["targets"]}
    assert targets["data_key"]["status"] == "completed"
    assert targets["data_key"]["completed_at"] is not None
    assert (targets["crm"]["attempts"], targets["crm"]["last_error"]) == (2, "http_503")
    _, consent_only = await new_key(database, "consent:write")
    assert client.get(f"/gdpr/deletions/{deletion_id}", headers=consent_only).status_code == 403
    outcomes = [r["outcome"] for r in await audit_rows(database, key_id)]
    assert outcomes == ["accepted", "already_pending"]


async def test_an_unreachable_log_is_a_503_and_leaves_no_row(
    api_settings: Settings, database: Database, keys: Pseudonymizer
) -> None:
    """Kafka down: the export is refused with 503 and no processing row is left behind."""
    customer = await whatsapp_customer(database, keys)
    _, headers = await new_key(database, "gdpr:export")
    dead = api_settings.model_copy(
        update={
            "kafka_bootstrap_servers": "127.0.0.1:9",
            "switchboard_produce_timeout_seconds": 0.5,
        }
    )

    def call() -> int:
        with TestClient(create_app(build_ingest(dead))) as dead_client:
            response = dead_client.post(
                "/gdpr/export", headers=headers, json={"contact": customer.contact_id}
            )
            return response.status_code

    assert await asyncio.to_thread(call) == 503
    async with database.connection() as conn:
        count = await conn.fetchval(
            "SELECT count(*) FROM gdpr_exports WHERE contact_id = $1", customer.contact_id
        )
    assert count == 0


async def test_audit_rows_hold_no_personal_data(database: Database) -> None:
    """Subjects are contact ids or empty; details hold only our own ids and codes."""
    async with database.connection() as conn:
        rows = await conn.fetch("SELECT subject, detail FROM audit_log")
    assert rows
    allowed = {
        "consent_type",
        "granted",
        "event_id",
        "export_id",
        "deletion_id",
        "reason",
        "required_scope",
        "key_id",
        "scopes",
        # Data requests made in the chat: pseudonymous conversation keys, event ids,
        # deletion or export ids, and when the code expires.
        "conversation_key",
        "request_id",
        "decided_by",
        "reference",
        "expires_at",
    }
    for row in rows:
        assert row["subject"] is None or row["subject"].startswith("ct_")
        assert set(json.loads(row["detail"])) <= allowed


async def test_the_worker_records_identities_so_a_webhook_contact_can_be_addressed(
    client: TestClient, database: Database, keys: Pseudonymizer, worker: Worker
) -> None:
    """A signed WhatsApp message through ingest and the worker: its phone identity is
    recorded, and the API finds the contact by that phone."""
    phone = "4930" + "".join(random.choices("0123456789", k=8))  # noqa: S311 - test data
    body = whatsapp_text_body(wamid=f"wamid.{uuid.uuid4().hex}", phone=phone, text="hello")
    posted = client.post(
        "/webhooks/whatsapp", content=body, headers=whatsapp_headers(TEST_SECRET, body)
    )
    assert posted.status_code == 200
    identity = Identity.of("phone", phone).key(keys)

    async def recorded() -> str | None:
        async with database.connection() as conn:
            found: str | None = await conn.fetchval(
                "SELECT contact_id FROM contact_identities WHERE identity_hash = $1", identity
            )
        return found

    assert await eventually(recorded, timeout=60) == keys.whatsapp_contact(phone)
    _, headers = await new_key(database, "consent:write")
    response = client.post(
        "/gdpr/consent",
        headers=headers,
        json={
            "contact": f"phone:+{phone}",
            "consent_type": "communication",
            "granted": True,
            "source": "web_form",
        },
    )
    assert response.status_code == 202, response.text
    assert response.json()["contact_id"] == keys.whatsapp_contact(phone)


async def test_the_database_refuses_keys_with_unknown_or_no_scopes(database: Database) -> None:
    """A key row written past the CLI still cannot carry a scope the API does not know."""
    for scopes in (["gdpr:everything"], []):
        key = apikeys.generate("direct", ["gdpr:read"])
        async with database.connection() as conn:
            with pytest.raises(asyncpg.CheckViolationError):
                await conn.execute(
                    "INSERT INTO api_keys (key_id, prefix, secret_hash, name, scopes)"
                    " VALUES ($1, $2, $3, 'direct', $4)",
                    key.key_id,
                    key.prefix,
                    key.secret_hash,
                    scopes,
                )


# --- rate limits and counted refusals ---------------------------------------------------


def _serve(settings: Settings, work: Callable[[TestClient], T]) -> T:
    """``work`` against an app of its own, shut down afterwards: its counted refusals are
    written by then."""
    with TestClient(create_app(build_ingest(settings))) as own:
        return work(own)


async def refusal_counts(database: Database, since: datetime) -> list[dict[str, Any]]:
    async with database.connection() as conn:
        rows = await conn.fetch(
            "SELECT window_start, endpoint, reason, key_id, attempts FROM audit_refusals"
            " WHERE window_start >= $1",
            since,
        )
    return [dict(r) for r in rows]


def _attempts(counts: list[dict[str, Any]], endpoint: str, reason: str, key_id: str) -> int:
    return sum(
        c["attempts"]
        for c in counts
        if (c["endpoint"], c["reason"], c["key_id"]) == (endpoint, reason, key_id)
    )


async def test_forged_links_and_wrong_secrets_are_counted_not_audited(
    api_settings: Settings, database: Database
) -> None:
    """200 forged download links and 50 wrong secrets under a real key's prefix: refused,
    no audit row each, but counted per minute in audit_refusals (a few rows; the wrong
    secrets under the key they named)."""
    key_id, headers = await new_key(database, "gdpr:read")
    prefix = headers["Authorization"].split("_")[1]
    since = window_start(time.time())
    links_before = len(await audit_rows(database, "signed-link"))
    forged = f"expires=4102444800&signature={'0' * 64}"

    def attack(own: TestClient) -> list[int]:
        links = [
            own.get(f"/gdpr/export/exp_{uuid.uuid4().hex}/download?{forged}").status_code
            for _ in range(200)
        ]
        wrong = {"Authorization": f"Bearer sb_{prefix}_{secrets.token_urlsafe(32)}"}
        tokens = [own.get("/gdpr/deletions/del_x", headers=wrong).status_code for _ in range(50)]
        return links + tokens

    assert await asyncio.to_thread(_serve, api_settings, attack) == [403] * 200 + [401] * 50
    assert len(await audit_rows(database, "signed-link")) == links_before
    assert await audit_rows(database, key_id) == []
    counts = await refusal_counts(database, since)
    assert _attempts(counts, "deletion_status", "wrong_secret", key_id) == 50
    links = [c for c in counts if (c["endpoint"], c["reason"]) == ("export_download", "bad_link")]
    assert sum(c["attempts"] for c in links) >= 200  # earlier tests' forgeries count here too
    assert len(links) <= 2  # one row per minute, however many attempts


async def test_a_key_and_a_client_over_their_rates_get_429(
    api_settings: Settings, database: Database
) -> None:
    """A key past its rate is refused while another key of the same client goes on; past
    the client's rate every request is refused, key or not. 429 with Retry-After, counted,
    no audit row."""
    limited = api_settings.model_copy(
        update={
            "switchboard_compliance_client_per_minute": 6,
            "switchboard_compliance_key_per_minute": 3,
        }
    )
    first_id, first = await new_key(database, "gdpr:read")
    second_id, second = await new_key(database, "gdpr:read")
    since = window_start(time.time())
    path = f"/gdpr/deletions/del_{uuid.uuid4().hex}"

    def calls(own: TestClient) -> list[tuple[int, str | None]]:
        order = [first] * 4 + [second, {}, second]
        answers = [own.get(path, headers=headers) for headers in order]
        return [(a.status_code, a.headers.get("Retry-After")) for a in answers]

    answers = await asyncio.to_thread(_serve, limited, calls)
    assert [status for status, _ in answers] == [404, 404, 404, 429, 404, 401, 429]
    assert 1 <= int(answers[3][1] or 0) <= 20  # the key: 3 a minute
    assert 1 <= int(answers[6][1] or 0) <= 10  # the client: 6 a minute
    assert [r["outcome"] for r in await audit_rows(database, first_id)] == ["not_found"] * 3
    assert [r["outcome"] for r in await audit_rows(database, second_id)] == ["not_found"]
    counts = await refusal_counts(database, since)
    assert _attempts(counts, "deletion_status", "rate_limited", first_id) == 1
    assert _attempts(counts, "deletion_status", "rate_limited", "") >= 1


# --- whose requests a key may read --------------------------------------------------------


async def test_an_export_is_shown_only_to_its_requester_or_a_reader_of_all(
    client: TestClient, database: Database, keys: Pseudonymizer, api_settings: Settings
) -> None:
    """Another key, with gdpr:read or gdpr:export, gets the 404 of an unknown id (audited as
    not_owner) and no link; gdpr:read-all sees it; status and archive are never cached."""
    export_id, owner, archive = await _completed_export(
        client, database, keys, api_settings.switchboard_export_dir
    )
    unknown = client.get(f"/gdpr/export/exp_{'0' * 32}/status", headers=owner)
    for scopes in (("gdpr:read",), ("gdpr:export",)):
        other_id, other = await new_key(database, *scopes)
        refused = client.get(f"/gdpr/export/{export_id}/status", headers=other)
        assert refused.status_code == 404
        assert refused.json() == unknown.json()
        (row,) = await audit_rows(database, other_id)
        assert (row["action"], row["outcome"], row["subject"]) == (
            "export.status",
            "not_owner",
            None,
        )
    _, officer = await new_key(database, "gdpr:read-all")
    urls = []
    for headers in (owner, officer):
        status = client.get(f"/gdpr/export/{export_id}/status", headers=headers)
        assert status.status_code == 200
        assert status.headers["Cache-Control"] == "no-store"
        urls.append(status.json()["download_url"])
    download = client.get(urls[1].removeprefix(PUBLIC_URL))
    assert download.content == archive
    assert download.headers["Cache-Control"] == "no-store"


async def test_an_erasure_asked_for_in_the_body_is_followed_by_those_who_asked(
    api_settings: Settings, database: Database, keys: Pseudonymizer
) -> None:
    """POST /gdpr/erasure with a BSUID in the body, no identity in the URL; a second
    gdpr:erase key asking again joins the same erasure and may follow it; a gdpr:read key
    that asked nothing gets 404; gdpr:read-all sees it. On topics of its own: the session's
    worker would otherwise carry the erasure out before the second key asks, and a contact
    already erased is unknown (404)."""
    settings = await isolated(api_settings, "erasure-joined")
    with TestClient(create_app(build_ingest(settings))) as client:
        await follow_an_erasure(client, database, keys, settings)


async def follow_an_erasure(
    client: TestClient, database: Database, keys: Pseudonymizer, settings: Settings
) -> None:
    customer = await whatsapp_customer(database, keys)
    first_id, first = await new_key(database, "gdpr:erase")
    _, second = await new_key(database, "gdpr:erase")
    contact = f"bsuid:{customer.bsuid}"
    unconfirmed = client.post("/gdpr/erasure", headers=first, json={"contact": contact})
    assert unconfirmed.status_code == 400
    assert "confirmation must be true" in unconfirmed.json()["detail"]
    body = {"contact": contact, "confirmation": True, "reason": "customer_request"}
    request_id = _request_id()
    accepted = client.post(
        "/gdpr/erasure", headers={**first, "X-Request-ID": request_id}, json=body
    )
    assert accepted.status_code == 202, accepted.text
    deletion_id = accepted.json()["deletion_id"]
    assert accepted.json()["contact_id"] == customer.contact_id
    ((key, event),) = await contact_events(settings, request_id)
    assert key == customer.contact_id.encode()
    assert isinstance(event, ErasureRequested)
    assert (event.data.deletion_id, event.data.requested_by) == (deletion_id, first_id)
    again = client.post("/gdpr/erasure", headers=second, json=body)
    assert again.status_code == 202
    assert again.json()["deletion_id"] == deletion_id
    _, reader = await new_key(database, "gdpr:read")
    _, officer = await new_key(database, "gdpr:read-all")
    answers = [
        client.get(f"/gdpr/deletions/{deletion_id}", headers=headers).status_code
        for headers in (first, second, officer, reader)
    ]
    assert answers == [200, 200, 200, 404]
