"""The asyncpg pool: sized from Settings, recycles old connections, never hands out dead ones."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from sinks.postgres.pool import Database, PoolConfig

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("idle_seconds", [0.2, 0.8], ids=["in-use", "idle-pinged"])
async def test_a_killed_connection_is_replaced_not_handed_out(
    database_url: str, idle_seconds: float
) -> None:
    """After the server drops every pooled connection, the next caller still gets a working one,
    whether the connection was in steady use or idle long enough to be pinged."""
    database = await Database.connect(
        PoolConfig(database_url, size=2, max_overflow=0, ping_after_idle_seconds=0.5)
    )
    try:
        async with database.connection() as conn:
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'switchboard' AND pid <> pg_backend_pid()"
                " AND datname = current_database()"
            )
        await asyncio.sleep(idle_seconds)
        for _ in range(4):
            async with database.connection() as conn:
                assert await conn.fetchval("SELECT 1") == 1
    finally:
        await database.close()


async def _cut_off_mid_transaction(database: Database) -> None:
    async with database.connection() as conn, conn.transaction():
        backend = await conn.fetchval("SELECT pg_backend_pid()")
        async with database.connection() as other:
            await other.execute("SELECT pg_terminate_backend($1)", backend)
        await asyncio.sleep(0.2)
        await conn.execute("SELECT 1")


async def test_a_connection_cut_off_mid_transaction_raises_the_database_error(
    database_url: str,
) -> None:
    """When the server ends a session while a transaction is using it (a restart), the caller
    gets asyncpg's connection error, which the agents retry; not an error of the pool's own."""
    database = await Database.connect(PoolConfig(database_url, size=2, max_overflow=0))
    try:
        with pytest.raises((asyncpg.PostgresConnectionError, asyncpg.InterfaceError)):
            await _cut_off_mid_transaction(database)
        async with database.connection() as conn:
            assert await conn.fetchval("SELECT 1") == 1
    finally:
        await database.close()


async def test_old_connections_are_recycled(database_url: str) -> None:
    """A connection older than the recycle age is closed and replaced by a new backend."""
    database = await Database.connect(
        PoolConfig(database_url, size=1, max_overflow=0, recycle_seconds=0.5)
    )
    try:
        async with database.connection() as conn:
            first = await conn.fetchval("SELECT pg_backend_pid()")
        await asyncio.sleep(0.7)
        async with database.connection() as conn:
            second = await conn.fetchval("SELECT pg_backend_pid()")
    finally:
        await database.close()
    assert first != second


async def test_statement_timeout_is_set(database_url: str) -> None:
    """Every pooled connection carries the configured statement timeout."""
    database = await Database.connect(PoolConfig(database_url, size=1, statement_timeout_seconds=7))
    try:
        async with database.connection() as conn:
            assert await conn.fetchval("SHOW statement_timeout") == "7s"
    finally:
        await database.close()


async def test_pool_size_follows_config(database_url: str) -> None:
    """The pool opens its base size and may grow by the overflow, no further."""
    database = await Database.connect(PoolConfig(database_url, size=3, max_overflow=2))
    try:
        stats = database.stats()
    finally:
        await database.close()
    assert (stats["size"], stats["max"]) == (3, 5)
