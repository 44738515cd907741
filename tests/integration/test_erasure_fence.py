"""Writes about a contact still in flight when the contact is erased: none outlives it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from schemas.events import ReplyRequested
from schemas.position import Position
from sinks.postgres import erasure_fence
from sinks.postgres.consent import PostgresConsentRecords
from sinks.postgres.contact_data import PostgresContactData
from sinks.postgres.conversation_events import ConversationStore
from sinks.postgres.pool import Database, PoolConfig
from tests.fakes.outbound_actions import reply

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = await Database.connect(PoolConfig(database_url, size=2, max_overflow=0))
    yield db
    await db.close()


def new_contact() -> str:
    return f"ct_fence_{uuid.uuid4().hex}"


def reply_of(contact: str, at: datetime) -> ReplyRequested:
    action = reply(action_id=f"reply:{uuid.uuid4().hex}")
    data = action.data.model_copy(update={"contact_id": contact})
    return action.model_copy(update={"time": at, "data": data})


async def erasure_requested(database: Database, contact: str, at: datetime) -> None:
    async with database.connection() as conn:
        await conn.execute(
            "INSERT INTO gdpr_deletions (deletion_id, contact_id, reason, requested_by, status,"
            " requested_at) VALUES ($1, $2, 'customer_request', 'test', 'in_progress', $3)",
            f"del_{uuid.uuid4().hex}",
            contact,
            at,
        )


async def count(database: Database, table: str, contact: str) -> int:
    async with database.connection() as conn:
        found = await conn.fetchval(f"SELECT count(*) FROM {table} WHERE contact_id = $1", contact)  # noqa: S608 - table names are the test's own
    return int(found)


def consent_row(contact: str, at: datetime) -> tuple[object, ...]:
    return (f"consent:{uuid.uuid4().hex}", contact, "marketing", True, "api", "form", None, at)


async def test_what_happened_before_the_request_is_not_stored_after_it(
    database: Database,
) -> None:
    """A reply from before the erasure request arrives after it: left out. The contact
    writing again after the request, and another contact, are stored as usual."""
    erased, other = new_contact(), new_contact()
    await erasure_requested(database, erased, NOW)
    store = ConversationStore(database)

    await store.write(
        [
            (reply_of(erased, NOW - timedelta(seconds=1)), Position("actions", 0, 1)),
            (reply_of(other, NOW - timedelta(seconds=1)), Position("actions", 0, 2)),
        ]
    )
    assert await count(database, "actions", erased) == 0
    assert await count(database, "actions", other) == 1

    await store.write([(reply_of(erased, NOW + timedelta(seconds=1)), Position("actions", 0, 3))])
    assert await count(database, "actions", erased) == 1


async def test_a_consent_record_from_before_the_request_is_not_stored_after_it(
    database: Database,
) -> None:
    contact = new_contact()
    await erasure_requested(database, contact, NOW)
    records = PostgresConsentRecords(database)

    await records.add(consent_row(contact, NOW - timedelta(seconds=1)))  # type: ignore[arg-type]
    assert await count(database, "consent_records", contact) == 0
    await records.add(consent_row(contact, NOW + timedelta(seconds=1)))  # type: ignore[arg-type]
    assert await count(database, "consent_records", contact) == 1


async def test_the_deletion_waits_for_a_write_under_way_and_removes_what_it_wrote(
    database: Database, database_url: str
) -> None:
    """A write that entered the fence before the erasure's deletion: the deletion waits for
    its commit, then deletes its row. (Unfenced, the deletion would miss the uncommitted
    row, and the row would stay.)"""
    contact = new_contact()
    writer = await asyncpg.connect(database_url)
    try:
        transaction = writer.transaction()
        await transaction.start()
        assert await erasure_fence.enter(writer, [contact]) == {}
        deletion = asyncio.create_task(
            PostgresContactData(database).delete_consent_records(contact)
        )
        await asyncio.sleep(0.5)
        assert not deletion.done(), "the deletion did not wait for the write under way"

        await writer.execute(
            "INSERT INTO consent_records (event_id, contact_id, consent_type, granted, source,"
            " reason, occurred_at) VALUES ($1, $2, 'marketing', true, 'api', 'form', $3)",
            f"consent:{uuid.uuid4().hex}",
            contact,
            NOW,
        )
        await transaction.commit()
        assert await asyncio.wait_for(deletion, timeout=10) == 1
    finally:
        await writer.close()
    assert await count(database, "consent_records", contact) == 0


async def test_writes_about_other_contacts_do_not_wait_for_a_deletion(
    database: Database, database_url: str
) -> None:
    erased, other = new_contact(), new_contact()
    deleter = await asyncpg.connect(database_url)
    try:
        async with deleter.transaction():
            await erasure_fence.close(deleter, erased)
            write = ConversationStore(database).write(
                [(reply_of(other, NOW), Position("actions", 0, 1))]
            )
            assert await asyncio.wait_for(write, timeout=5) == 1
    finally:
        await deleter.close()
