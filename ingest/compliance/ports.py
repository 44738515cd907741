"""What the compliance code needs from the outside world, as small interfaces."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol


class Connections(Protocol):
    """A source of PostgreSQL connections: `sinks.postgres.pool.Database` or ingest's
    lazily opened pool. A connection offers asyncpg's execute/fetch/fetchrow/fetchval
    and transaction()."""

    def connection(self) -> AbstractAsyncContextManager[Any]: ...
