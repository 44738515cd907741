"""The worker process: the Faust app with its agents, wired from Settings.

The agents share one consumer group and one PostgreSQL pool:

- ``store``: inbound events and actions → PostgreSQL, each partition's records in shared
  batches (one transaction for many rows), acknowledged in offset order once committed;
- ``converse``: inbound events → conversation state → the flow → actions, one event at a
  time per partition (the state table's changelog follows the event's partition);
- ``deliver``: actions → Chatwoot, WhatsApp Cloud or 360dialog, each step recorded in the
  delivery log before the offset is committed; a chat data request confirmed after its
  reply → the erasure or export request; actions of a replay are held back unless it
  was started with ``--resend`` (streams/replay/hooks.py);
- ``exports`` (streams/exports): export requests → an archive file, and for a request
  confirmed in the chat its download link back to the conversation; and the retention
  crontab (streams/retention), run by the leader only.
- ``contacts`` (with the consent table and the erasure timer, `streams.privacy`): consent
  changes and erasure requests from ``contact-events.v1``.

Every agent acknowledges an offset only after its work for that record is done.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import structlog

from schemas.catalogue import ACTIONS, DEAD_LETTER, INBOUND, sized
from schemas.events import Event
from schemas.keys import Pseudonymizer
from sinks.outbound.guard import Guard
from sinks.outbound.sender import OutboundSender, outbound_client
from sinks.postgres.conversation_events import ConversationStore
from sinks.postgres.deletions import PostgresConversationErasures
from sinks.postgres.deliveries import PostgresDeliveryLog
from sinks.postgres.knowledge import PostgresRetriever
from sinks.postgres.pool import Database, LazyDatabase, PoolConfig
from sinks.postgres.replays import PostgresSuppressionLog, replay_group_mark
from streams.conversation.agent import ChatRequests, Conversations, GraphFlow
from streams.conversation.data_requests import ConfirmationCodes, confirmation_key
from streams.conversation.stored import SealedStates
from streams.delivery import Deliveries
from streams.exports.agent import register_exports
from streams.flow.model import build_chat_model
from streams.flow.runner import Flow
from streams.keys.build import build_keyring
from streams.keys.keyring import KeyRing
from streams.metrics.instruments import (
    MeteredFlow,
    MeteredRetriever,
    MeteredSender,
    metered_model,
    timed_decoder,
)
from streams.metrics.registry import WorkerMetrics
from streams.metrics.serve import register_metrics
from streams.privacy import register_privacy
from streams.replay.hooks import MarkedActions, ReplayGuard
from streams.retention.metrics import RetentionMetrics
from streams.retention.schedule import register_retention
from streams.retry import backoff_seconds, until_done
from streams.runtime.app import create_app, run
from streams.runtime.batches import Batches
from streams.runtime.dead_letter import DeadLetters
from streams.runtime.emit import TopicLog
from streams.runtime.faust_fixes import watch_commits
from streams.runtime.partition import Lanes, Reading, run_batched, run_in_lanes
from streams.runtime.reading import decoded, ordered_reader
from streams.runtime.record_order import Reader
from streams.runtime.types import App, Record, Stream
from streams.storage import BATCH_SIZE, BATCH_WITHIN_SECONDS, StorageAgent, is_transient
from streams.topics import check_partitions
from switchboard.database import pool_config
from switchboard.settings import Settings

log = structlog.get_logger(__name__)

COMMIT_WATCH_INTERVAL_SECONDS = 2.0


def pseudonymizer(settings: Settings) -> Pseudonymizer:
    return Pseudonymizer(settings.switchboard_pseudonym_key.get_secret_value().encode())


def chat_requests(settings: Settings) -> ChatRequests:
    key = confirmation_key(settings.switchboard_pseudonym_key.get_secret_value().encode())
    return ChatRequests(
        ConfirmationCodes(key),
        confirm_minutes=settings.switchboard_chat_confirm_minutes,
        link_days=settings.switchboard_export_link_days,
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


class SharedKeyRing:
    """One key ring per process, started (topics read to their end) by the first agent."""

    def __init__(self, settings: Settings, database: LazyDatabase) -> None:
        self._keyring = build_keyring(settings, database.get)
        self._started = False
        self._lock = asyncio.Lock()

    async def get(self) -> KeyRing:
        async with self._lock:
            if not self._started:
                await self._keyring.start()
                self._started = True
            return self._keyring

    def unstarted(self) -> KeyRing:
        """For the topic log, which seals only once an agent (that started it) runs."""
        return self._keyring

    async def close(self) -> None:
        if self._started:
            await self._keyring.stop()
            self._started = False


def _in_order(app: App, agent: str, metrics: WorkerMetrics) -> Reader[Record]:
    def noticed(tp: Any, missing: int, offset: int) -> None:
        log.warning(
            "record_missing_reading_again",
            agent=agent,
            topic=tp.topic,
            partition=tp.partition,
            missing=missing,
            offset=offset,
        )
        metrics.commit_repairs.labels(tp.topic, "record_missing").inc()

    return ordered_reader(app, noticed)


def build_worker(settings: Settings) -> App:  # noqa: PLR0915 - the wiring, top to bottom
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
    # Waits for PostgreSQL rather than crash: a worker may start before its database.
    database = LazyDatabase(pool_config(settings), connect_timeout=None, connect=connect_database)
    metrics = register_metrics(app, settings, database)  # /metrics, with the lag gauges
    if settings.switchboard_commit_watch_seconds:
        watch_commits(
            app,
            interval=COMMIT_WATCH_INTERVAL_SECONDS,
            patience=settings.switchboard_commit_watch_seconds,
            repaired=lambda topic, verdict: metrics.commit_repairs.labels(
                topic, verdict.value
            ).inc(),
        )
    dead_letters = DeadLetters(
        app.topic(DEAD_LETTER.full_name(prefix), key_serializer="raw", value_serializer="raw"),
        counted=metrics.dead_letter,
    )
    keys = SharedKeyRing(settings, database)
    # Everything the worker writes is sealed with the contact's key first.
    action_log = TopicLog(app, prefix, keys.unstarted())
    # JSON keys and values; the changelog is compacted and co-partitioned with inbound.
    state_table = app.Table("conversation-state", partitions=settings.switchboard_topic_partitions)

    async def opened(
        stream: Stream, dead_letters: DeadLetters
    ) -> AsyncIterator[tuple[Record, Event]]:
        async for item in decoded(stream, await keys.get(), dead_letters):
            yield item

    privacy = register_privacy(
        app, settings, database.get, action_log, dead_letters=dead_letters, decoded=opened
    )

    # Each partition's records go into shared batches, one PostgreSQL transaction for many
    # rows; each is acknowledged, in offset order, once its batch is committed.
    store_lanes = Lanes(
        asyncio.Semaphore(settings.switchboard_max_in_flight),
        settings.switchboard_partition_window,
        metrics.records_held.labels("store").inc,
    )
    store_batches: list[Batches[Record]] = []

    async def batches_for_store() -> Batches[Record]:
        if not store_batches:
            agent = StorageAgent(
                ConversationStore(await database.get(), keys=pseudonymizer(settings)),
                await keys.get(),
                dead_letters,
            )

            async def write(records: list[Record]) -> None:
                started = time.perf_counter()
                # Anything handle() does not settle itself (permanent refusals go to the
                # dead letters) is retried: the records stay unacknowledged meanwhile.
                await until_done(lambda: agent.handle(records), "store")
                for _ in records:
                    metrics.handled("store", time.perf_counter() - started)

            if not store_batches:
                store_batches.append(Batches(write, size=BATCH_SIZE, within=BATCH_WITHIN_SECONDS))
        return store_batches[0]

    @app.agent(stored, name="store", isolated_partitions=True)
    async def store(stream: Stream) -> None:
        order = _in_order(app, "store", metrics)
        await run_batched(stream, order, store_lanes, await batches_for_store())

    # One actor per partition, and inside it one lane per conversation: a conversation's
    # records run in order, different conversations at once (streams/runtime/lanes.py).
    running = asyncio.Semaphore(settings.switchboard_max_in_flight)

    def lanes(agent: str) -> Lanes:
        gauge = metrics.records_held.labels(agent)
        return Lanes(running, settings.switchboard_partition_window, gauge.inc)

    converse_lanes, deliver_lanes = lanes("converse"), lanes("deliver")
    # One circuit and rate limit per destination for the whole process, every partition.
    guard = Guard(
        whatsapp_per_second=settings.whatsapp_messages_per_second,
        chatwoot_per_minute=settings.chatwoot_requests_per_minute,
        failures=settings.switchboard_circuit_failures,
        changed=lambda to, state: metrics.circuit_open.labels(to.kind, to.id).set(state == "open"),
    )
    metrics.destinations_waiting = guard.not_closed

    @app.agent(inbound, name="converse", isolated_partitions=True)
    async def converse(stream: Stream) -> None:
        db = await database.get()
        keyring = await keys.get()
        flow = Flow(
            MeteredRetriever(PostgresRetriever(db), metrics),
            metered_model(build_chat_model(settings), metrics),
            timeout_seconds=settings.switchboard_flow_timeout_seconds,
            model_retries=settings.switchboard_model_retries,
            min_score=settings.switchboard_kb_min_score,
            guard=guard,
            model_name=settings.switchboard_llm_model or "offline",
        )
        # Actions of replayed records (or of a group a replay seeded) carry the replay mark.
        marked = MarkedActions(
            action_log, await replay_group_mark(db, settings.switchboard_worker_group)
        )
        requests = chat_requests(settings)
        conversations = Conversations(
            state_table,
            MeteredFlow(GraphFlow(flow, requests, privacy.consent), metrics),
            marked,
            requests=requests,
            states=SealedStates(keyring),
            erasures=PostgresConversationErasures(db),
        )

        async def handle(record: Record, event: Event) -> None:
            started = time.perf_counter()
            marked.follow(record.headers)
            await until_done(lambda: conversations.handle(event), "converse")
            metrics.handled("converse", time.perf_counter() - started)

        reading = Reading(keyring, dead_letters, _in_order(app, "converse", metrics))
        await run_in_lanes(stream, reading, converse_lanes, handle)

    @app.agent(actions, name="deliver", isolated_partitions=True)
    async def deliver(stream: Stream) -> None:
        db = await database.get()
        keyring = await keys.get()
        async with outbound_client(settings) as client:
            sender = OutboundSender.from_settings(
                settings, client, PostgresDeliveryLog(db), guard=guard
            )
            sender.retried = metrics.delivery_retry
            deliveries = Deliveries(MeteredSender(sender, metrics), action_log, dead_letters)
            replay_group = (
                await replay_group_mark(db, settings.switchboard_worker_group) is not None
            )
            replays = ReplayGuard(PostgresSuppressionLog(db), replay_group=replay_group)

            async def handle(record: Record, event: Event) -> None:
                started = time.perf_counter()
                if not await replays.holds_back(event, record.headers):
                    await until_done(lambda: deliveries.handle(event, record), "deliver")
                metrics.handled("deliver", time.perf_counter() - started)

            reading = Reading(keyring, dead_letters, _in_order(app, "deliver", metrics))
            await run_in_lanes(stream, reading, deliver_lanes, handle)

    exports_decoded = timed_decoder(metrics, "exports", opened)
    register_exports(
        app,
        settings,
        database,
        dead_letters,
        exports_decoded,
        actions=action_log,
        finished=metrics.export_finished,
    )
    register_retention(app, settings, database, action_log, RetentionMetrics(metrics.registry))

    async def close_database(app: App, **_: object) -> None:
        await keys.close()
        await database.close()

    app.on_before_shutdown.connect(close_database)  # type: ignore[arg-type]
    return app


def run_worker(settings: Settings) -> None:
    # Tables are sized from Settings, not from the broker: refuse to start on topics that
    # were made with another partition count.
    asyncio.run(
        check_partitions(
            settings.kafka_bootstrap_servers,
            settings.switchboard_topic_prefix,
            sized(settings.switchboard_topic_partitions),
        )
    )
    run(build_worker(settings), loglevel=settings.switchboard_log_level.lower())
