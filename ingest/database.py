"""Ingest's PostgreSQL pool, for the compliance API.

Opened on first use rather than at start-up: webhooks never touch PostgreSQL and must keep
being answered while it is down, so its absence only turns compliance requests into 503s.
Closed by the app's lifespan.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import structlog

from ingest.compliance.errors import DatabaseUnavailable
from sinks.postgres.pool import Database, PoolConfig

log = structlog.get_logger(__name__)

# Losing the server, as opposed to a statement being refused.
_UNAVAILABLE = (
    OSError,
    TimeoutError,
    ConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
)


class LazyDatabase:
    def __init__(self, config: PoolConfig, connect_timeout: float = 5.0) -> None:
        self.config = config
        self.connect_timeout = connect_timeout
        self._database: Database | None = None
        self._lock = asyncio.Lock()

    async def _get(self) -> Database:
        async with self._lock:
            if self._database is None:
                try:
                    async with asyncio.timeout(self.connect_timeout):
                        self._database = await Database.connect(self.config)
                except _UNAVAILABLE as exc:
                    log.warning("postgres_unavailable", error=type(exc).__name__)
                    raise DatabaseUnavailable from exc
            return self._database

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        database = await self._get()
        try:
            async with database.connection() as conn:
                yield conn
        except _UNAVAILABLE as exc:
            log.warning("postgres_unavailable", error=type(exc).__name__)
            raise DatabaseUnavailable from exc

    async def close(self) -> None:
        if self._database is not None:
            await self._database.close()
            self._database = None
