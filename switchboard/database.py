"""The PostgreSQL pool's configuration, read from Settings: for the processes that open one
(ingest, the worker), so the pool itself takes plain values."""

from __future__ import annotations

from sinks.postgres.pool import PoolConfig
from switchboard.settings import Settings


def pool_config(settings: Settings) -> PoolConfig:
    return PoolConfig(
        dsn=settings.database_url.get_secret_value(),
        size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        acquire_timeout=settings.database_pool_timeout_seconds,
        recycle_seconds=settings.database_pool_recycle_seconds,
        statement_timeout_seconds=settings.database_statement_timeout_seconds,
    )
