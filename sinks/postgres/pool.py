"""One asyncpg pool per process, sized and bounded as the seed deployment was.

asyncpg's pool has no maximum connection age, and it only notices a dropped connection when
the server's goodbye reached the socket; `Database.connection()` adds both: connections older
than the recycle age are closed and replaced, and a connection that sat idle long enough to
have been dropped silently (a restarted server, a firewall) must answer a ping first, and is
replaced if it does not. A connection in steady use skips the ping (HikariCP's
"alive bypass window"): pinging on every checkout cost a round trip per query.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy

log = structlog.get_logger(__name__)


class _TimedConnection(asyncpg.Connection):
    """Remembers when it was opened, for recycling."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.opened_at = time.monotonic()
        self.last_used = self.opened_at

    def mark_used(self) -> None:
        self.last_used = time.monotonic()


@dataclass(frozen=True)
class PoolConfig:
    dsn: str
    size: int = 10
    max_overflow: int = 5
    acquire_timeout: float = 30.0
    recycle_seconds: float = 3600.0
    statement_timeout_seconds: float = 30.0
    ping_after_idle_seconds: float = 1.0


class Database:
    def __init__(self, pool: asyncpg.Pool, config: PoolConfig) -> None:
        self.pool = pool
        self.config = config
        # Called by asyncpg after every statement (for metrics); set before first use.
        self.query_logger: Callable[[Any], None] | None = None

    @classmethod
    async def connect(cls, config: PoolConfig) -> Database:
        timeout_ms = str(int(config.statement_timeout_seconds * 1000))
        pool = await asyncpg.create_pool(
            config.dsn,
            min_size=config.size,
            max_size=config.size + config.max_overflow,
            # Overflow connections are closed again once the load has passed.
            max_inactive_connection_lifetime=60.0,
            command_timeout=config.statement_timeout_seconds + 5,
            connection_class=_TimedConnection,
            server_settings={
                "statement_timeout": timeout_ms,
                "idle_in_transaction_session_timeout": timeout_ms,
                "application_name": "switchboard",
            },
        )
        return cls(pool, config)

    async def close(self) -> None:
        await self.pool.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[PoolConnectionProxy]:
        """A connection that is young enough and alive."""
        for _ in range(self.config.size + self.config.max_overflow + 1):
            try:
                conn = await self.pool.acquire(timeout=self.config.acquire_timeout)
            except asyncpg.InternalClientError as exc:
                # asyncpg's pool can trip over its own bookkeeping while connections it
                # holds are being cut off (a server restart): to callers, that is a lost
                # connection, which they retry.
                raise ConnectionError("the PostgreSQL pool is reconnecting") from exc
            if await self._usable(conn):
                if self.query_logger is not None:  # a set: adding it again changes nothing
                    conn.add_query_logger(self.query_logger)
                try:
                    yield conn
                finally:
                    await self._give_back(conn, used=True)
                return
            # A closed connection is reopened by the pool on its next acquire.
            await self._give_back(conn, used=False)
        raise ConnectionError("no usable PostgreSQL connection")

    async def _give_back(self, conn: Any, *, used: bool) -> None:
        """Return a connection to the pool. One the server cut off mid-use (a restart) may be
        back in the pool already, detached from this proxy: then there is nothing to mark or
        release, and the caller sees the connection error, not the pool's complaint."""
        with contextlib.suppress(AttributeError):
            if used:
                conn.mark_used()
        with contextlib.suppress(asyncpg.InternalClientError):
            await self.pool.release(conn)

    async def _usable(self, conn: Any) -> bool:
        now = time.monotonic()
        if now - conn.opened_at > self.config.recycle_seconds:
            await conn.close()
            return False
        if conn.is_closed():
            return False
        if now - conn.last_used < self.config.ping_after_idle_seconds:
            return True
        try:
            await conn.execute("SELECT 1")
        except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError, TimeoutError):
            log.warning("postgres_connection_replaced", reason="failed ping")
            conn.terminate()
            return False
        return True

    def stats(self) -> dict[str, int]:
        return {
            "size": self.pool.get_size(),
            "idle": self.pool.get_idle_size(),
            "in_use": self.pool.get_size() - self.pool.get_idle_size(),
            "max": self.pool.get_max_size(),
        }


class LazyDatabase:
    """One pool per process, opened by whichever caller needs it first, and tried again on
    the next use if that failed.

    Ingest must serve while PostgreSQL is away (it answers 503 meanwhile), so by default an
    opening gives up after ``connect_timeout``; the worker passes a ``connect`` that waits
    for the server instead, and no timeout.
    """

    def __init__(
        self,
        config: PoolConfig,
        connect_timeout: float | None = 5.0,
        connect: Callable[[PoolConfig], Awaitable[Database]] | None = None,
    ) -> None:
        self._config = config
        self._connect_timeout = connect_timeout
        self._connect = connect or Database.connect
        self._database: Database | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> Database:
        async with self._lock:
            if self._database is None:
                async with asyncio.timeout(self._connect_timeout):
                    self._database = await self._connect(self._config)
            return self._database

    async def close(self) -> None:
        if self._database is not None:
            await self._database.close()
            self._database = None

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[PoolConnectionProxy]:
        """A usable connection, opening the pool first if need be."""
        database = await self.get()
        async with database.connection() as conn:
            yield conn

    def stats(self) -> dict[str, int]:
        return self._database.stats() if self._database is not None else {}
