"""The conversation agents, wired:

- ``store``: inbound events and actions → PostgreSQL, each partition's records in shared
  batches (one transaction for many rows), acknowledged in offset order once committed;
- ``converse``: inbound events → conversation state → the flow → actions, one event at a
  time per conversation (the state table's changelog follows the event's partition);
- ``deliver``: actions → Chatwoot, WhatsApp Cloud or 360dialog, each step recorded in the
  delivery log before the offset is committed; a chat data request confirmed after its
  reply → the erasure or export request; actions of a replay are held back unless it
  was started with ``--resend`` (streams/replay/hooks.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import MutableMapping
from typing import Any

from schemas.catalogue import ACTIONS, INBOUND
from schemas.events import Event
from schemas.keys import Pseudonymizer
from sinks.outbound.guard import Guard
from sinks.postgres.conversation_events import ConversationStore
from sinks.postgres.deletions import PostgresConversationErasures
from sinks.postgres.deliveries import PostgresDeliveryLog
from sinks.postgres.knowledge import PostgresRetriever
from sinks.postgres.replays import PostgresSuppressionLog, replay_group_mark
from streams.bootstrap.outbound import outbound_sender
from streams.bootstrap.shared import Shared
from streams.consent.view import ConsentView
from streams.conversation.agent import ChatRequests, Conversations, GraphFlow
from streams.conversation.data_requests import ConfirmationCodes, confirmation_key
from streams.conversation.stored import SealedStates
from streams.delivery import Deliveries
from streams.flow.model import build_chat_model
from streams.flow.runner import Flow
from streams.metrics.instruments import MeteredFlow, MeteredRetriever, MeteredSender, metered_model
from streams.replay.hooks import MarkedActions, ReplayGuard
from streams.runtime.batches import Batches
from streams.runtime.partition import Lanes, Reading, run_batched, run_in_lanes
from streams.runtime.types import Record, Stream
from streams.storage import BATCH_SIZE, BATCH_WITHIN_SECONDS, StorageAgent
from switchboard.retrying import until_done
from switchboard.settings import Settings


def pseudonymizer(settings: Settings) -> Pseudonymizer:
    return Pseudonymizer(settings.switchboard_pseudonym_key.get_secret_value().encode())


def chat_requests(settings: Settings) -> ChatRequests:
    key = confirmation_key(settings.switchboard_pseudonym_key.get_secret_value().encode())
    return ChatRequests(
        ConfirmationCodes(key),
        confirm_minutes=settings.switchboard_chat_confirm_minutes,
        link_days=settings.switchboard_export_link_days,
    )


def wire_store(shared: Shared) -> None:
    """Each partition's records go into shared batches, one PostgreSQL transaction for many
    rows; each is acknowledged, in offset order, once its batch is committed."""
    app, settings, metrics = shared.app, shared.settings, shared.metrics
    prefix = settings.switchboard_topic_prefix
    stored = app.topic(
        INBOUND.full_name(prefix),
        ACTIONS.full_name(prefix),
        key_serializer="raw",
        value_serializer="raw",
    )
    store_lanes = Lanes(
        asyncio.Semaphore(settings.switchboard_max_in_flight),
        settings.switchboard_partition_window,
        metrics.records_held.labels("store").inc,
    )
    store_batches: list[Batches[Record]] = []

    async def batches_for_store() -> Batches[Record]:
        if not store_batches:
            agent = StorageAgent(
                ConversationStore(await shared.database.get(), keys=pseudonymizer(settings)),
                await shared.keys.get(),
                shared.dead_letters,
            )

            async def write(records: list[Record]) -> None:
                started = time.perf_counter()
                # Anything handle() does not settle itself (permanent refusals go to the
                # dead letters) is retried: the records stay unacknowledged meanwhile.
                await until_done("store")(agent.handle, records)
                for _ in records:
                    metrics.handled("store", time.perf_counter() - started)

            if not store_batches:
                store_batches.append(Batches(write, size=BATCH_SIZE, within=BATCH_WITHIN_SECONDS))
        return store_batches[0]

    @app.agent(stored, name="store", isolated_partitions=True)
    async def store(stream: Stream) -> None:
        await run_batched(stream, shared.in_order("store"), store_lanes, await batches_for_store())


def wire_conversations(
    shared: Shared,
    state_table: MutableMapping[str, Any],
    consent: ConsentView,
) -> None:
    """``converse`` and ``deliver``: one actor per partition, and inside it one lane per
    conversation: a conversation's records run in order, different conversations at once
    (streams/runtime/lanes.py)."""
    app, settings, metrics = shared.app, shared.settings, shared.metrics
    prefix = settings.switchboard_topic_prefix
    inbound = app.topic(INBOUND.full_name(prefix), key_serializer="raw", value_serializer="raw")
    actions = app.topic(ACTIONS.full_name(prefix), key_serializer="raw", value_serializer="raw")
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
        db = await shared.database.get()
        keyring = await shared.keys.get()
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
            shared.action_log, await replay_group_mark(db, settings.switchboard_worker_group)
        )
        requests = chat_requests(settings)
        conversations = Conversations(
            state_table,
            MeteredFlow(GraphFlow(flow, requests, consent), metrics),
            marked,
            requests=requests,
            states=SealedStates(keyring),
            erasures=PostgresConversationErasures(db),
        )

        async def handle(record: Record, event: Event) -> None:
            started = time.perf_counter()
            marked.follow(record.headers)
            await until_done("converse")(conversations.handle, event)
            metrics.handled("converse", time.perf_counter() - started)

        reading = Reading(keyring, shared.dead_letters, shared.in_order("converse"))
        await run_in_lanes(stream, reading, converse_lanes, handle)

    @app.agent(actions, name="deliver", isolated_partitions=True)
    async def deliver(stream: Stream) -> None:
        db = await shared.database.get()
        keyring = await shared.keys.get()
        async with outbound_sender(settings, PostgresDeliveryLog(db), guard=guard) as sender:
            deliveries = Deliveries(
                MeteredSender(sender, metrics), shared.action_log, shared.dead_letters
            )
            replay_group = (
                await replay_group_mark(db, settings.switchboard_worker_group) is not None
            )
            replays = ReplayGuard(PostgresSuppressionLog(db), replay_group=replay_group)

            async def handle(record: Record, event: Event) -> None:
                started = time.perf_counter()
                if not await replays.holds_back(event, record.headers):
                    await until_done("deliver", "delivery")(deliveries.handle, event, record)
                metrics.handled("deliver", time.perf_counter() - started)

            reading = Reading(keyring, shared.dead_letters, shared.in_order("deliver"))
            await run_in_lanes(stream, reading, deliver_lanes, handle)
