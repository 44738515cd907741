"""Migrations against the real PostgreSQL: once each, in order, also when runners race."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from migrations.runner import Migration, MigrationError, migrate, packaged
from switchboard import stack

pytestmark = pytest.mark.integration


@pytest.fixture
async def empty_database(endpoints: stack.Endpoints) -> AsyncIterator[str]:
    name = f"switchboard_migrations_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(endpoints.database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    yield endpoints.database_url.rsplit("/", 1)[0] + f"/{name}"
    admin = await asyncpg.connect(endpoints.database_url)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def test_runners_started_together_apply_each_migration_once(empty_database: str) -> None:
    """Four runners racing on a fresh database apply every migration exactly once."""
    results = await asyncio.gather(*(migrate(empty_database) for _ in range(4)))
    applied = [m.version for result in results for m in result]
    assert sorted(applied) == [m.version for m in packaged()]
    conn = await asyncpg.connect(empty_database)
    try:
        rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        tables = await conn.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'messages'"
        )
    finally:
        await conn.close()
    assert [r["version"] for r in rows] == [m.version for m in packaged()]
    assert tables == 1


async def test_second_run_applies_nothing(empty_database: str) -> None:
    """Migrating an up-to-date database is a no-op."""
    await migrate(empty_database)
    assert await migrate(empty_database) == []


async def test_a_failing_migration_leaves_nothing_behind(empty_database: str) -> None:
    """A migration that fails is rolled back whole and not recorded, so it runs again next time."""
    broken = [Migration(1, "broken", "CREATE TABLE half_done (id int); SELECT 1/0;")]
    with pytest.raises(asyncpg.DivisionByZeroError):
        await migrate(empty_database, broken)
    conn = await asyncpg.connect(empty_database)
    try:
        exists = await conn.fetchval("SELECT to_regclass('half_done') IS NOT NULL")
        recorded = await conn.fetchval("SELECT count(*) FROM schema_migrations")
    finally:
        await conn.close()
    assert (exists, recorded) == (False, 0)


async def test_an_edited_migration_is_refused(empty_database: str) -> None:
    """Changing an applied migration is an error; migrations are append-only."""
    await migrate(empty_database, [Migration(1, "a", "CREATE TABLE a (id int);")])
    with pytest.raises(MigrationError, match="changed after it was applied"):
        await migrate(empty_database, [Migration(1, "a", "CREATE TABLE a (id bigint);")])
