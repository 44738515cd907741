"""PostgreSQL for the compliance API, as seen from ingest: connections, or a 503.

Ingest opens its pool lazily (`sinks.postgres.pool.LazyDatabase`): webhooks never touch
PostgreSQL and must keep being answered while it is down, so its absence only turns
compliance requests into 503s. This adapter gives the compliance code the small
`Connections` interface it depends on, and says "unavailable" in one way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import structlog

from ingest.compliance.errors import DatabaseUnavailable
from sinks.postgres.pool import Database

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


class ServedConnections:
    """Connections from a database that may be away; `get` opens it (again) if needed."""

    def __init__(self, get: Callable[[], Awaitable[Database]]) -> None:
        self._get = get

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        try:
            database = await self._get()
            async with database.connection() as conn:
                yield conn
        except _UNAVAILABLE as exc:
            log.warning("postgres_unavailable", error=type(exc).__name__)
            raise DatabaseUnavailable from exc
