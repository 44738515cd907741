"""Wiring consent and erasure into the worker: ``register_privacy(app, …)``.

- the ``consent`` table (keyed by contact id, JSON values, changelog compacted and managed by
  Faust), partitioned like ``contact-events.v1``;
- the ``contacts`` agent on ``contact-events.v1`` (`streams.contact_events`), reading each
  event as every agent does (personal data opened, events of forgotten contacts skipped)
  and acknowledging it only after its work is done;
- a task that keeps this process's `ConsentView` following the consent changelog, for the
  ``converse`` agent (why a view: `streams.consent.view`);
- a timer that drives every incomplete deletion from PostgreSQL, so failed targets are
  retried and an erasure interrupted by a crash resumes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import structlog

from schemas.catalogue import CONTACT_EVENTS, DATA_KEYS, ERASURES, ROLL_INTERVAL_MS, ROLL_KEY, Topic
from schemas.events import Event
from sinks.chatwoot.contacts import ChatwootContacts
from sinks.postgres.consent import PostgresConsentRecords
from sinks.postgres.contact_data import PostgresContactData
from sinks.postgres.deletions import PostgresDeletions
from sinks.postgres.pool import Database
from streams.consent.follower import follow_forever
from streams.consent.keeper import ConsentKeeper
from streams.consent.view import ConsentView
from streams.contact_events import ContactEvents
from streams.erasure.driver import Eraser, Target
from streams.erasure.metrics import ErasureMetrics
from streams.erasure.plan import CHATWOOT, CONSENT, CONVERSATION_STATE, DATA_KEY, EXPORTS, POSTGRES
from streams.erasure.targets import (
    ChatwootTarget,
    ConsentTarget,
    ConversationStateTarget,
    DataKeyTarget,
    ExportsTarget,
    PostgresTarget,
)
from streams.runtime.dead_letter import DeadLetters
from streams.runtime.emit import TopicLog
from streams.runtime.types import App, KafkaTopic, Record, Stream
from switchboard.retrying import until_done
from switchboard.settings import Settings

log = structlog.get_logger(__name__)

# The worker's manual-ack iterator: events opened with the key ring, acknowledged after the
# caller's work on each (`streams.worker._decoded`).
Decoded = Callable[[Stream, DeadLetters], AsyncIterator[tuple[Record, Event]]]

ERASURE_TIMER_SECONDS = 2.0
CHATWOOT_TIMEOUT_SECONDS = 10.0


class KafkaKeyed:
    """Records keyed by contact id on one topic, awaited until Kafka acknowledged them."""

    def __init__(self, topic: KafkaTopic) -> None:
        self.topic = topic

    @classmethod
    def on(cls, app: App, topic: Topic, prefix: str) -> KafkaKeyed:
        return cls(app.topic(topic.full_name(prefix), key_serializer="raw", value_serializer="raw"))

    async def _send(self, contact_id: str, value: bytes | None) -> None:
        sent = await self.topic.send(key=contact_id.encode(), value=value)
        await sent

    async def tombstone(self, contact_id: str) -> None:
        await self._send(contact_id, None)

    async def publish(self, contact_id: str, value: bytes) -> None:
        await self._send(contact_id, value)

    async def roll(self, partitions: int) -> None:
        """A roll marker on every partition: the record that lets Kafka close the segment
        a tombstone sits in, so the cleaner can remove what it deletes (COMPACTION_BOUND_MS)."""
        for partition in range(partitions):
            await (await self.topic.send(key=ROLL_KEY, value=None, partition=partition))


@dataclass
class Privacy:
    """What the rest of the worker uses: the consent view, for the converse agent, and the
    erasure metrics' registry, for whatever serves the worker's metrics."""

    consent: ConsentView
    metrics: ErasureMetrics


def build_eraser(
    settings: Settings,
    db: Database,
    *,
    events: TopicLog,
    keys: KafkaKeyed,
    proofs: KafkaKeyed,
    http: httpx.AsyncClient,
    metrics: ErasureMetrics,
) -> Eraser:
    data = PostgresContactData(db)
    admin = settings.chatwoot_admin_token
    chatwoot = ChatwootContacts(
        http, settings.chatwoot_base_url, admin.get_secret_value() if admin else None
    )
    targets: dict[str, Target] = {
        DATA_KEY: DataKeyTarget(keys, data),
        CONSENT: ConsentTarget(data),
        CONVERSATION_STATE: ConversationStateTarget(data, events),
        EXPORTS: ExportsTarget(data, settings.switchboard_export_dir),
        CHATWOOT: ChatwootTarget(data, chatwoot),
        POSTGRES: PostgresTarget(data),
    }
    return Eraser(PostgresDeletions(db), targets, proofs, metrics)


def register_privacy(
    app: App,
    settings: Settings,
    database: Callable[[], Awaitable[Database]],
    events: TopicLog,
    *,
    dead_letters: DeadLetters,
    decoded: Decoded,
) -> Privacy:
    """``decoded`` is the worker's iterator of opened events (sealed personal data opened,
    forgotten contacts' events skipped, undecodable records dead-lettered, manual acks)."""
    prefix = settings.switchboard_topic_prefix
    # Faust's default table codecs: keys and values JSON (the view reads them so).
    table = app.Table("consent", partitions=settings.switchboard_topic_partitions)
    view = ConsentView()
    contact_events = app.topic(
        CONTACT_EVENTS.full_name(prefix), key_serializer="raw", value_serializer="raw"
    )
    keys, proofs = KafkaKeyed.on(app, DATA_KEYS, prefix), KafkaKeyed.on(app, ERASURES, prefix)
    http = httpx.AsyncClient(timeout=CHATWOOT_TIMEOUT_SECONDS, follow_redirects=False)
    metrics = ErasureMetrics()
    erasers: list[Eraser] = []
    building = asyncio.Lock()
    running: set[asyncio.Task[bool]] = set()

    async def eraser() -> Eraser:
        """One eraser per process, built when the agent or the timer first needs it."""
        async with building:
            if erasers:
                return erasers[0]
            erasers.append(
                build_eraser(
                    settings,
                    await database(),
                    events=events,
                    keys=keys,
                    proofs=proofs,
                    http=http,
                    metrics=metrics,
                )
            )
            return erasers[0]

    async def drive(deletion_id: str) -> bool:
        try:
            return await erasers[0].drive(deletion_id)
        except Exception as exc:  # the timer tries again
            log.error("erasure_drive_failed", deletion_id=deletion_id, error=type(exc).__name__)  # noqa: TRY400
            return False

    def start(deletion_id: str) -> None:
        # Not awaited: the agent moves on; the timer picks up whatever this leaves undone.
        task = asyncio.ensure_future(drive(deletion_id))
        running.add(task)
        task.add_done_callback(running.discard)

    @app.agent(contact_events, name="contacts")
    async def contacts(stream: Stream) -> None:
        db = await database()
        handler = ContactEvents(
            ConsentKeeper(table, PostgresConsentRecords(db), view), await eraser(), start
        )
        # Opened like every agent's events: a consent change from the API carries its ip
        # address sealed, and a replay must not record consent of a forgotten contact.
        async for _, event in decoded(stream, dead_letters):
            await until_done("contacts")(handler.handle, event)

    @app.timer(interval=ERASURE_TIMER_SECONDS)  # type: ignore[untyped-decorator]
    async def drive_erasures() -> None:
        try:
            await (await eraser()).drive_due()
        except Exception as exc:
            log.error("erasure_timer_failed", error=type(exc).__name__)  # noqa: TRY400

    @app.timer(interval=ROLL_INTERVAL_MS / 1000, on_leader=True)  # type: ignore[untyped-decorator]
    async def roll_data_keys() -> None:
        try:
            await keys.roll(settings.switchboard_topic_partitions)
        except Exception as exc:  # the next tick tries again
            log.warning("data_keys_roll_failed", error=type(exc).__name__)

    @app.task  # type: ignore[untyped-decorator]
    async def follow_consent() -> None:
        changelog: str = table.changelog_topic_name  # type: ignore[attr-defined]
        await follow_forever(view, settings.kafka_bootstrap_servers, changelog)

    async def close(app: App, **_: object) -> None:
        await http.aclose()

    app.on_before_shutdown.connect(close)  # type: ignore[arg-type]
    return Privacy(consent=view, metrics=metrics)
