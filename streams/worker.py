"""The worker process: the Faust app with its agents, wired from Settings."""

from __future__ import annotations

import asyncio

import faust
import structlog
from faust.types import StreamT

from schemas.catalogue import DEAD_LETTER, INBOUND
from sinks.postgres.pool import Database, PoolConfig
from sinks.postgres.store import ConversationStore
from streams.app import create_app
from streams.retry import backoff_seconds
from streams.storage import BATCH_SIZE, BATCH_WITHIN_SECONDS, StorageAgent, is_transient
from switchboard.settings import Settings

log = structlog.get_logger(__name__)


def pool_config(settings: Settings) -> PoolConfig:
    return PoolConfig(
        dsn=settings.database_url.get_secret_value(),
        size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        acquire_timeout=settings.database_pool_timeout_seconds,
        recycle_seconds=settings.database_pool_recycle_seconds,
        statement_timeout_seconds=settings.database_statement_timeout_seconds,
    )


async def connect_database(config: PoolConfig) -> Database:
    """Wait for PostgreSQL rather than crash: a worker may start before its database."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return await Database.connect(config)
        except Exception as exc:
            if not is_transient(exc):
                raise
            log.warning("postgres_unavailable", error=type(exc).__name__, attempt=attempt)
            await asyncio.sleep(backoff_seconds(attempt))


def build_worker(settings: Settings) -> faust.App:
    app = create_app(settings)
    prefix = settings.switchboard_topic_prefix
    inbound = app.topic(INBOUND.full_name(prefix), key_serializer="raw", value_serializer="raw")
    dead_letter = app.topic(
        DEAD_LETTER.full_name(prefix), key_serializer="raw", value_serializer="raw"
    )
    config = pool_config(settings)

    @app.agent(inbound, name="store-conversation-events")
    async def store(stream: StreamT[bytes]) -> None:
        database = await connect_database(config)
        agent = StorageAgent(ConversationStore(database), dead_letter)
        try:
            # noack_take: offsets are acknowledged by us, after the batch is stored,
            # never by the stream on the way out of a failed batch.
            batches = stream.noack_take(  # type: ignore[attr-defined]  # missing from StreamT
                BATCH_SIZE, within=BATCH_WITHIN_SECONDS
            )
            async for batch in batches:
                await agent.handle(batch)
                for record in batch:
                    await stream.ack(record)
        finally:
            await database.close()

    return app


def run_worker(settings: Settings) -> None:
    app = build_worker(settings)
    worker = faust.Worker(app, loglevel=settings.switchboard_log_level.lower())
    worker.execute_from_commandline()
