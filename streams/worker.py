"""The worker process: the Faust app with its agents, wired from Settings.

Three agents share one consumer group and one PostgreSQL pool:

- ``store``: inbound events and actions → PostgreSQL (batched, idempotent);
- ``converse``: inbound events → conversation state → the flow → actions, one event at a
  time per partition (the state table's changelog follows the event's partition);
- ``deliver``: actions → Chatwoot, WhatsApp Cloud or 360dialog, each step recorded in the
  delivery log before the offset is committed; actions of a replay are held back unless it
  was started with ``--resend`` (streams/replay/hooks.py);
- ``exports`` (streams/exports): export requests → an archive file; and the retention
  crontab (streams/retention), run by the leader only.

Every agent acknowledges an offset only after its work for that record is done.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import faust
import structlog
from faust.types import EventT, StreamT
from pydantic import ValidationError

from schemas.catalogue import ACTIONS, DEAD_LETTER, INBOUND
from schemas.events import decode
from schemas.keys import Pseudonymizer
from sinks.outbound.sender import OutboundSender, outbound_client
from sinks.postgres.deliveries import PostgresDeliveryLog
from sinks.postgres.knowledge import PostgresRetriever
from sinks.postgres.pool import Database, PoolConfig, pool_config
from sinks.postgres.replays import PostgresSuppressionLog, replay_group_mark
from sinks.postgres.store import ConversationStore
from streams.app import create_app
from streams.conversation.agent import Conversations, GraphFlow
from streams.dead_letter import DeadLetters
from streams.delivery import Deliveries
from streams.emit import TopicLog
from streams.exports.agent import register_exports
from streams.flow.model import build_chat_model
from streams.flow.runner import Flow
from streams.lag.monitor import register_lag_monitor
from streams.replay.hooks import MarkedActions, ReplayGuard
from streams.retention.schedule import register_retention
from streams.retry import backoff_seconds, until_done
from streams.storage import StorageAgent, is_transient
from switchboard.settings import Settings

log = structlog.get_logger(__name__)


def pseudonymizer(settings: Settings) -> Pseudonymizer:
    return Pseudonymizer(settings.switchboard_pseudonym_key.get_secret_value().encode())


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


class SharedDatabase:
    """One pool per process, opened by whichever agent needs it first."""

    def __init__(self, config: PoolConfig) -> None:
        self._config = config
        self._database: Database | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> Database:
        async with self._lock:
            if self._database is None:
                self._database = await connect_database(self._config)
            return self._database

    async def close(self) -> None:
        if self._database is not None:
            await self._database.close()
            self._database = None


async def _decoded(
    stream: StreamT[bytes], dead_letters: DeadLetters
) -> AsyncIterator[tuple[EventT[bytes], object]]:
    """Events one by one, acknowledged by the caller; undecodable ones are dead-lettered."""
    manual = stream.noack()  # type: ignore[attr-defined]  # missing from StreamT
    async for record in manual.events():
        try:
            yield record, decode(record.value)
        except ValidationError:
            await dead_letters.send(record, "undecodable")
        await manual.ack(record)


def build_worker(settings: Settings) -> faust.App:
    app = create_app(settings)
    prefix = settings.switchboard_topic_prefix
    inbound = app.topic(INBOUND.full_name(prefix), key_serializer="raw", value_serializer="raw")
    actions = app.topic(ACTIONS.full_name(prefix), key_serializer="raw", value_serializer="raw")
    stored = app.topic(
        INBOUND.full_name(prefix),
        ACTIONS.full_name(prefix),
        key_serializer="raw",
        value_serializer="raw",
    )
    dead_letters = DeadLetters(
        app.topic(DEAD_LETTER.full_name(prefix), key_serializer="raw", value_serializer="raw")
    )
    action_log = TopicLog(app, prefix)
    # JSON keys and values; the changelog is compacted and co-partitioned with inbound.
    state_table = app.Table("conversation-state", partitions=INBOUND.partitions)
    database = SharedDatabase(pool_config(settings))

    @app.agent(stored, name="store")
    async def store(stream: StreamT[bytes]) -> None:
        store = ConversationStore(await database.get(), keys=pseudonymizer(settings))
        agent = StorageAgent(store, dead_letters)
        # Record by record, acknowledged by us after it is stored. (Faust's take() batching
        # stalled this agent, and every agent sharing its consumer, after a rebalance.)
        manual = stream.noack()  # type: ignore[attr-defined]  # missing from StreamT
        async for record in manual.events():
            await agent.handle([record])
            await manual.ack(record)

    # One actor per partition: conversations on different partitions wait on the database
    # and the flow concurrently instead of behind each other.
    @app.agent(inbound, name="converse", isolated_partitions=True)
    async def converse(stream: StreamT[bytes]) -> None:
        db = await database.get()
        flow = Flow(
            PostgresRetriever(db),
            build_chat_model(settings),
            timeout_seconds=settings.switchboard_flow_timeout_seconds,
            model_retries=settings.switchboard_model_retries,
            min_score=settings.switchboard_kb_min_score,
        )
        # Actions of replayed records (or of a group a replay seeded) carry the replay mark.
        marked = MarkedActions(
            action_log, await replay_group_mark(db, settings.switchboard_worker_group)
        )
        conversations = Conversations(state_table, GraphFlow(flow), marked)
        async for record, event in _decoded(stream, dead_letters):
            marked.follow(record.headers)
            await until_done(
                lambda: conversations.handle(event),  # type: ignore[arg-type]  # noqa: B023
                "converse",
            )

    @app.agent(actions, name="deliver", isolated_partitions=True)
    async def deliver(stream: StreamT[bytes]) -> None:
        db = await database.get()
        async with outbound_client(settings) as client:
            sender = OutboundSender.from_settings(settings, client, PostgresDeliveryLog(db))
            deliveries = Deliveries(sender, action_log, dead_letters)
            replay_group = (
                await replay_group_mark(db, settings.switchboard_worker_group) is not None
            )
            replays = ReplayGuard(PostgresSuppressionLog(db), replay_group=replay_group)
            async for record, event in _decoded(stream, dead_letters):
                if await replays.holds_back(event, record.headers):
                    continue
                await until_done(
                    lambda: deliveries.handle(event, record),  # type: ignore[arg-type]  # noqa: B023
                    "deliver",
                )

    register_exports(app, settings, database, dead_letters, _decoded)
    register_retention(app, settings, database, action_log)

    async def close_database(app: faust.App, **_: object) -> None:
        await database.close()

    app.on_before_shutdown.connect(close_database)  # type: ignore[arg-type]
    # Lag gauges on their own registry; pass `LagMetrics(registry)` to serve them elsewhere.
    register_lag_monitor(app, settings)

    return app


def run_worker(settings: Settings) -> None:
    app = build_worker(settings)
    worker = faust.Worker(app, loglevel=settings.switchboard_log_level.lower())
    # Faust's progress spinner lowers the root logger to DEBUG, so every library builds
    # debug records that are then thrown away (~15 % of the worker's CPU).
    worker.spinner = None
    worker.execute_from_commandline()
