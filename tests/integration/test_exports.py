"""Export requests on the contact topic become archives on disk: the real worker, Kafka and
PostgreSQL. The archive holds the contact's messages and consent history and nothing of
anyone else's."""

from __future__ import annotations

import json
import os
import stat
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from ingest.producer import KafkaEventLog
from schemas.events import (
    DataRequested,
    DataRequestedData,
    Event,
    ExportRequested,
    ExportRequestedData,
)
from streams.exports.requests import chat_export_id
from switchboard.settings import Settings
from tests.integration.conftest import Worker, eventually

pytestmark = pytest.mark.integration

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


async def _append(settings: Settings, events: Sequence[Event]) -> None:
    log = KafkaEventLog(settings.kafka_bootstrap_servers, settings.switchboard_topic_prefix, 10)
    await log.start()
    try:
        await log.append(events)
    finally:
        await log.stop()


async def seed_contact(db: asyncpg.Connection, contact: str, marker: str) -> None:
    """A conversation with two messages, a bot reply, an identity and two consent changes."""
    conversation = f"cv_{contact}"
    await db.execute(
        "INSERT INTO conversations (conversation_key, channel, contact_id, route, status,"
        " message_count, first_message_at, last_message_at)"
        " VALUES ($1, 'chatwoot', $2, '{}', 'pending', 2, $3, $4)",
        conversation,
        contact,
        T0,
        T0 + timedelta(minutes=1),
    )
    for n in (1, 2):
        personal = {"text": f"{marker} message {n}", "contact_name": f"Name {marker}"}
        await db.execute(
            "INSERT INTO messages (event_id, conversation_key, contact_id, direction, source,"
            " provider_message_id, message_type, personal, sent_at, correlation_id,"
            " kafka_topic, kafka_partition, kafka_offset)"
            " VALUES ($1, $2, $3, 'inbound', 'chatwoot', $1, 'text', $4::jsonb, $5, 'c', 't', 0,"
            " $6)",
            f"{contact}-m{n}",
            conversation,
            contact,
            json.dumps(personal),
            T0 + timedelta(minutes=n - 1),
            n,
        )
    await db.execute(
        "INSERT INTO actions (action_id, conversation_key, contact_id, type, in_reply_to,"
        " intent, personal, requested_at, correlation_id, kafka_topic, kafka_partition,"
        " kafka_offset) VALUES ($1, $2, $3, 'reply.requested', $4, 'question', $5::jsonb, $6,"
        " 'c', 't', 0, 0)",
        f"reply:{contact}-m1",
        conversation,
        contact,
        f"{contact}-m1",
        json.dumps({"text": f"{marker} reply"}),
        T0 + timedelta(seconds=30),
    )
    await db.execute(
        "INSERT INTO contact_identities (identity_hash, kind, contact_id, external_ref)"
        " VALUES ($1, 'chatwoot', $2, $3)",
        f"h_{contact}",
        contact,
        f"1/{marker}",
    )
    for n, granted in enumerate((True, False)):
        await db.execute(
            "INSERT INTO consent_records (event_id, contact_id, consent_type, granted, source,"
            " reason, ip_address, occurred_at) VALUES ($1, $2, 'marketing', $3, 'api', $4,"
            " '192.0.2.7', $5)",
            f"{contact}-consent-{n}",
            contact,
            granted,
            f"{marker}-reason-{n}",
            T0 + timedelta(hours=n + 1),
        )


def read(path: str | Path) -> bytes:
    return Path(path).read_bytes()


def exists(path: Path) -> bool:
    return path.exists()


def export_requested(contact: str, export_id: str) -> ExportRequested:
    return ExportRequested(
        id=f"export:{export_id}",
        source="switchboard",
        time=datetime.now(UTC),
        subject=contact,
        correlation_id=export_id,
        data=ExportRequestedData(contact_id=contact, export_id=export_id, requested_by="key_t"),
    )


async def create_row(db: asyncpg.Connection, contact: str, export_id: str) -> None:
    """What the compliance API does before it appends the event."""
    await db.execute(
        "INSERT INTO gdpr_exports (export_id, contact_id, status, requested_by, expires_at)"
        " VALUES ($1, $2, 'processing', 'key_t', now() + interval '7 days')",
        export_id,
        contact,
    )


async def wait_completed(db: asyncpg.Connection, export_id: str, worker: Worker) -> Any:
    async def probe() -> Any:
        row = await db.fetchrow("SELECT * FROM gdpr_exports WHERE export_id = $1", export_id)
        return row if row is not None and row["status"] != "processing" else None

    row = await eventually(probe, timeout=60)
    assert row is not None, worker.log()[-5000:]
    assert row["status"] == "completed", (row["error"], worker.log()[-5000:])
    return row


async def test_an_export_request_writes_the_contacts_archive(
    settings: Settings, worker: Worker, db: asyncpg.Connection
) -> None:
    """The archive appears with the contact's messages, reply and consent history, none of
    another contact's data, and the row says completed with the file's size."""
    run = uuid.uuid4().hex[:8]
    contact, other = f"ct_a{run}", f"ct_b{run}"
    marker, other_marker = f"MARK-{run}-A", f"MARK-{run}-B"
    await seed_contact(db, contact, marker)
    await seed_contact(db, other, other_marker)
    export_id = f"ex_{run}"
    await create_row(db, contact, export_id)
    await _append(settings, [export_requested(contact, export_id)])

    row = await wait_completed(db, export_id, worker)
    path = Path(row["path"])
    assert path.name == f"{export_id}.json"
    raw = read(path)
    assert row["size_bytes"] == len(raw)
    assert row["completed_at"] is not None
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert other_marker not in raw.decode()
    assert other not in raw.decode()

    archive = json.loads(raw)
    assert archive["format_version"] == 2
    assert archive["contact"]["contact_id"] == contact
    assert archive["contact"]["name"] == f"Name {marker}"
    assert archive["contact"]["identities"][0]["provider_reference"] == f"1/{marker}"
    (conversation,) = archive["conversations"]
    inbound = [m["text"] for m in conversation["messages"] if m["direction"] == "inbound"]
    assert inbound == [f"{marker} message 1", f"{marker} message 2"]
    outbound = [m["text"] for m in conversation["messages"] if m["direction"] == "outbound"]
    assert outbound == [f"{marker} reply"]
    assert [(c["granted"], c["reason"], c["ip_address"]) for c in archive["consent_history"]] == [
        (True, f"{marker}-reason-0", "192.0.2.7"),
        (False, f"{marker}-reason-1", "192.0.2.7"),
    ]
    assert [e["export_id"] for e in archive["export_history"]] == [export_id]


async def test_a_completed_export_is_not_redone(
    settings: Settings, worker: Worker, db: asyncpg.Connection
) -> None:
    """The same request again leaves the archive and its row as they were."""
    run = uuid.uuid4().hex[:8]
    contact = f"ct_c{run}"
    await seed_contact(db, contact, f"MARK-{run}-C")
    first = f"ex_{run}_1"
    await create_row(db, contact, first)
    await _append(settings, [export_requested(contact, first)])
    done = await wait_completed(db, first, worker)
    modified = os.stat(done["path"]).st_mtime_ns

    # The repeat, then a new export on the same partition: once that one is done, the
    # repeat has been handled too.
    second = f"ex_{run}_2"
    await create_row(db, contact, second)
    await _append(settings, [export_requested(contact, first), export_requested(contact, second)])
    await wait_completed(db, second, worker)
    again = await db.fetchrow("SELECT * FROM gdpr_exports WHERE export_id = $1", first)
    assert again is not None
    assert again["completed_at"] == done["completed_at"]
    assert os.stat(done["path"]).st_mtime_ns == modified


async def test_an_unconfirmed_chat_request_of_an_old_log_makes_no_export(
    settings: Settings, worker: Worker, db: asyncpg.Connection
) -> None:
    """data.requested (from before chat requests needed a code) creates no export; an API
    request after it on the same partition shows it was read."""
    run = uuid.uuid4().hex[:8]
    contact = f"ct_d{run}"
    await seed_contact(db, contact, f"MARK-{run}-D")
    event = DataRequested(
        id=f"data-request:{run}",
        source="chatwoot",
        time=datetime.now(UTC),
        subject=contact,
        correlation_id=run,
        data=DataRequestedData(
            contact_id=contact, kind="export", conversation_key=f"cv_{contact}", in_reply_to=run
        ),
    )
    later = f"ex_{run}"
    await create_row(db, contact, later)
    await _append(settings, [event, export_requested(contact, later)])
    await wait_completed(db, later, worker)
    assert (
        await db.fetchval(
            "SELECT count(*) FROM gdpr_exports WHERE export_id = $1", chat_export_id(event.id)
        )
        == 0
    )


async def test_an_export_of_a_contact_erased_since_is_not_made(
    settings: Settings, worker: Worker, db: asyncpg.Connection
) -> None:
    """An erasure requested after the export was: no archive, the export fails."""
    run = uuid.uuid4().hex[:8]
    contact = f"ct_e{run}"
    await seed_contact(db, contact, f"MARK-{run}-E")
    export_id = f"ex_{run}"
    await create_row(db, contact, export_id)
    await db.execute(
        "INSERT INTO gdpr_deletions (deletion_id, contact_id, reason, requested_by, status)"
        " VALUES ($1, $2, 'customer_request', 'key_t', 'pending')",
        f"del_{run}",
        contact,
    )
    await _append(settings, [export_requested(contact, export_id)])

    async def probe() -> Any:
        return await db.fetchrow(
            "SELECT * FROM gdpr_exports WHERE export_id = $1 AND status <> 'processing'", export_id
        )

    row = await eventually(probe, timeout=60)
    assert row is not None, worker.log()[-5000:]
    assert row["status"] == "failed"
    assert row["path"] is None
    archives = Path(worker.env["SWITCHBOARD_EXPORT_DIR"])
    assert not exists(archives / f"{export_id}.json")
