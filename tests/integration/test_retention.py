"""A retention run with a simulated clock, through `switchboard retention run --now`, against
a database of its own and topics of their own: it removes exactly what the policies say,
appends exactly the erasure events that follow, and a second run removes nothing."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer
from pydantic import SecretStr

from schemas.catalogue import CONTACT_EVENTS, INBOUND
from schemas.events import ConversationErased, ErasureRequested, decode
from switchboard import stack
from switchboard.settings import Settings
from switchboard.stack.scratch import create_database, drop_database
from tests.integration.conftest import ROOT, Worker, eventually, isolated, settings_env

pytestmark = pytest.mark.integration

NOW = datetime(2031, 1, 1, 2, 0, tzinfo=UTC)
# Every table a run may touch, with the column that tells its rows apart.
TABLES = {
    "conversations": "conversation_key",
    "messages": "event_id",
    "actions": "action_id",
    "message_statuses": "event_id",
    "conversation_status_changes": "event_id",
    "deliveries": "action_id",
    "consent_records": "event_id",
    "contact_identities": "identity_hash",
    "gdpr_deletions": "deletion_id",
}


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@pytest.fixture
async def own_database(endpoints: stack.Endpoints) -> AsyncIterator[str]:
    """A fresh database: a run removes across the whole database, so it gets its own."""
    name = f"switchboard_retention_{uuid.uuid4().hex[:10]}"
    url = await create_database(endpoints.database_url, name, knowledge_base=False)
    yield url
    await drop_database(endpoints.database_url, url)


async def conversation(
    db: asyncpg.Connection, key: str, contact: str, last: datetime, with_extras: bool = False
) -> None:
    """A conversation whose last message is at ``last``; optionally with a bot reply, its
    delivery, a delivery status and a status change."""
    await db.execute(
        "INSERT INTO conversations (conversation_key, channel, contact_id, route,"
        " message_count, first_message_at, last_message_at)"
        " VALUES ($1, 'chatwoot', $2, '{}', 1, $3, $3)",
        key,
        contact,
        last,
    )
    await db.execute(
        "INSERT INTO messages (event_id, conversation_key, contact_id, direction, source,"
        " provider_message_id, message_type, personal, sent_at, correlation_id, kafka_topic,"
        " kafka_partition, kafka_offset)"
        " VALUES ($1, $2, $3, 'inbound', 'chatwoot', $1, 'text', '{\"text\": \"hi\"}', $4,"
        " 'c', 't', 0, 0)",
        f"m-{key}",
        key,
        contact,
        last,
    )
    if not with_extras:
        return
    await db.execute(
        "INSERT INTO actions (action_id, conversation_key, contact_id, type, in_reply_to,"
        " personal, requested_at, correlation_id, kafka_topic, kafka_partition, kafka_offset)"
        " VALUES ($1, $2, $3, 'reply.requested', $4, '{}', $5, 'c', 't', 0, 0)",
        f"reply:m-{key}",
        key,
        contact,
        f"m-{key}",
        last,
    )
    await db.execute(
        "INSERT INTO deliveries (action_id, step, status_code) VALUES ($1, 'message', 200)",
        f"reply:m-{key}",
    )
    await db.execute(
        "INSERT INTO message_statuses (event_id, conversation_key, contact_id,"
        " provider_message_id, status, occurred_at) VALUES ($1, $2, $3, 'p', 'read', $4)",
        f"s-{key}",
        key,
        contact,
        last,
    )
    await db.execute(
        "INSERT INTO conversation_status_changes (event_id, conversation_key, status,"
        " occurred_at) VALUES ($1, $2, 'resolved', $3)",
        f"st-{key}",
        key,
        last,
    )


async def consent(db: asyncpg.Connection, event_id: str, contact: str, at: datetime) -> None:
    await db.execute(
        "INSERT INTO consent_records (event_id, contact_id, consent_type, granted, source,"
        " reason, occurred_at) VALUES ($1, $2, 'marketing', true, 'api', 'r', $3)",
        event_id,
        contact,
        at,
    )


async def identity(db: asyncpg.Connection, contact: str, last_seen: datetime) -> None:
    await db.execute(
        "INSERT INTO contact_identities (identity_hash, kind, contact_id, first_seen_at,"
        " last_seen_at) VALUES ($1, 'phone', $2, $3, $3)",
        f"h-{contact}",
        contact,
        last_seen,
    )


async def seed(db: asyncpg.Connection) -> None:
    # Gone quiet 100 days ago: erased, its conversation and consent left to the erasure.
    await identity(db, "ct_old", ago(100))
    await conversation(db, "cv_old", "ct_old", ago(100), with_extras=True)
    await consent(db, "c-old-contact", "ct_old", ago(120))
    # Exactly 90 days: kept.
    await identity(db, "ct_edge", ago(90))
    await conversation(db, "cv_edge", "ct_edge", ago(90))
    # Active: keeps the contact, but an old conversation and an old consent record go.
    await identity(db, "ct_active", ago(5))
    await conversation(db, "cv_active_old", "ct_active", ago(400), with_extras=True)
    await conversation(db, "cv_active_365", "ct_active", ago(365))
    await conversation(db, "cv_active_new", "ct_active", ago(5))
    await consent(db, "c-1900", "ct_active", ago(1900))
    await consent(db, "c-1825", "ct_active", ago(1825))
    await consent(db, "c-5", "ct_active", ago(5))
    # Already being erased at the customer's request: neither erased again nor trimmed.
    await conversation(db, "cv_erasing", "ct_erasing", ago(400))
    await db.execute(
        "INSERT INTO gdpr_deletions (deletion_id, contact_id, reason, requested_by, status,"
        " requested_at) VALUES ('del_api', 'ct_erasing', 'customer_request', 'key_1',"
        " 'in_progress', $1)",
        ago(150),
    )
    # An earlier run recorded this erasure but stopped before its event was on the log.
    await identity(db, "ct_resume", ago(300))
    await db.execute(
        "INSERT INTO gdpr_deletions (deletion_id, contact_id, reason, requested_by, status,"
        " requested_at) VALUES ('retention:2030-12-31:ct_resume', 'ct_resume', 'retention',"
        " 'retention', 'pending', $1)",
        ago(1),
    )


async def snapshot(db: asyncpg.Connection) -> dict[str, set[str]]:
    return {
        table: {row[0] for row in await db.fetch(f"SELECT {column} FROM {table}")}  # noqa: S608
        for table, column in TABLES.items()
    }


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "retention", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def run_cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    """`switchboard retention run …`; its report is the last line of its output."""
    out = await asyncio.to_thread(cli, env, "run", *args)
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return report


async def appended(settings: Settings) -> list[Any]:
    """Every event on the run's contact and inbound topics, from the beginning."""
    prefix = settings.switchboard_topic_prefix
    consumer = AIOKafkaConsumer(
        CONTACT_EVENTS.full_name(prefix),
        INBOUND.full_name(prefix),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    events = []
    try:
        quiet = 0
        while quiet < 4:
            batch = await consumer.getmany(timeout_ms=500)
            quiet = 0 if batch else quiet + 1
            for records in batch.values():
                events += [(r.key.decode(), decode(r.value)) for r in records]
    finally:
        await consumer.stop()
    return events


async def test_a_run_removes_exactly_what_the_policies_say(
    settings: Settings, own_database: str, tmp_path: Path
) -> None:
    """Contacts, conversations and consent records past their policies go, the rest stays;
    the erasure events match; a second run removes and appends nothing."""
    own = (await isolated(settings, "retention")).model_copy(
        update={"database_url": SecretStr(own_database)}
    )
    env = settings_env(own, tmp_path)
    db = await asyncpg.connect(own_database)
    try:
        await seed(db)
        before = await snapshot(db)

        report = await run_cli(env, "--now", NOW.isoformat())
        assert report["removed"] == {
            "contacts": 1,
            "conversations": 1,
            "consent_records": 1,
            "analytics": 0,
        }
        assert report["resumed"] == 1

        after = await snapshot(db)
        removed = {table: before[table] - after[table] for table in TABLES}
        assert removed == {
            "conversations": {"cv_active_old"},
            "messages": {"m-cv_active_old"},
            "actions": {"reply:m-cv_active_old"},
            "message_statuses": {"s-cv_active_old"},
            "conversation_status_changes": {"st-cv_active_old"},
            "deliveries": {"reply:m-cv_active_old"},
            "consent_records": {"c-1900"},
            "contact_identities": set(),
            "gdpr_deletions": set(),
        }
        assert after["gdpr_deletions"] - before["gdpr_deletions"] == {"retention:2031-01-01:ct_old"}
        deletion = await db.fetchrow(
            "SELECT * FROM gdpr_deletions WHERE deletion_id = 'retention:2031-01-01:ct_old'"
        )
        assert deletion is not None
        assert (deletion["status"], deletion["reason"], deletion["requested_by"]) == (
            "pending",
            "retention",
            "retention",
        )
        assert deletion["contact_id"] == "ct_old"

        events = await appended(own)
        erasures = sorted(
            (key, e.data.deletion_id) for key, e in events if isinstance(e, ErasureRequested)
        )
        assert erasures == [
            ("ct_old", "retention:2031-01-01:ct_old"),
            ("ct_resume", "retention:2030-12-31:ct_resume"),
        ]
        erased = [(key, e.data) for key, e in events if isinstance(e, ConversationErased)]
        assert [(key, d.contact_id, d.deletion_id) for key, d in erased] == [
            ("cv_active_old", "ct_active", "retention:2031-01-01")
        ]
        assert len(events) == 3

        again = await run_cli(env, "--now", NOW.isoformat())
        assert again["removed"] == dict.fromkeys(report["removed"], 0)
        assert again["resumed"] == 0
        assert await snapshot(db) == after
        assert len(await appended(own)) == 3
    finally:
        await db.close()


async def test_policies_are_listed_and_editable(
    settings: Settings, own_database: str, tmp_path: Path
) -> None:
    """`retention policies` prints the table; an edited policy applies to the next run."""
    own = settings.model_copy(update={"database_url": SecretStr(own_database)})
    env = settings_env(await isolated(own, "retention-policies"), tmp_path)
    listed = await asyncio.to_thread(cli, env, "policies")
    assert "contacts  90 days" in listed
    assert "consent_records  1825 days" in listed
    db = await asyncpg.connect(own_database)
    try:
        await identity(db, "ct_quiet", ago(40))
        await db.execute(
            "UPDATE data_retention_policies SET retention_days = 30"
            " WHERE data_category = 'contacts'"
        )
        report = await run_cli(env, "--now", NOW.isoformat())
        assert report["removed"]["contacts"] == 1
    finally:
        await db.close()


async def test_the_worker_runs_retention_on_its_schedule(
    settings: Settings, own_database: str, tmp_path: Path
) -> None:
    """With a schedule of every minute, the (only, so leading) worker erases a contact that
    went quiet 100 days ago and audits the run."""
    own = (await isolated(settings, "retention-cron")).model_copy(
        update={"database_url": SecretStr(own_database)}
    )
    env = {**settings_env(own, tmp_path), "SWITCHBOARD_RETENTION_CRON": "* * * * *"}
    db = await asyncpg.connect(own_database)
    worker = Worker(env, tmp_path / "worker.log")
    try:
        await identity(db, "ct_quiet", datetime.now(UTC) - timedelta(days=100))
        worker.start()

        async def erased() -> Any:
            return await db.fetchval(
                "SELECT status FROM gdpr_deletions WHERE contact_id = 'ct_quiet'"
                " AND requested_by = 'retention'"
            )

        async def audited() -> Any:
            return await db.fetchval(
                "SELECT detail FROM audit_log WHERE actor = 'retention'"
                " AND action = 'retention.run'"
            )

        # The same worker's erasure driver may already be working on it, or be done.
        status = await eventually(erased, timeout=100, interval=1)
        assert status in {"pending", "in_progress", "completed"}, worker.log()
        detail = await eventually(audited, timeout=10)
        assert json.loads(detail)["contacts"] == 1
    finally:
        worker.stop()
        await db.close()
