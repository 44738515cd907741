"""Consent and erasure, wired:

- the ``consent`` table (keyed by contact id, JSON values, changelog compacted and managed by
  Faust), partitioned like ``contact-events.v1``;
- the ``contacts`` agent on ``contact-events.v1`` (`streams.contact_events`), reading each
  event as every agent does (personal data opened, events of forgotten contacts skipped)
  and acknowledging it only after its work is done;
- a task that keeps this process's `ConsentView` following the consent changelog, for the
  ``converse`` agent (why a view: `streams.consent.view`);
- a timer that drives every incomplete deletion from PostgreSQL, so failed targets are
  retried and an erasure interrupted by a crash resumes;
- a timer, on the leader, that writes the data keys' roll marker (`KafkaKeyed.roll`).
"""

from __future__ import annotations

import asyncio

import httpx
import structlog

from schemas.catalogue import CONTACT_EVENTS, DATA_KEYS, ERASURES, ROLL_INTERVAL_MS
from sinks.chatwoot.contacts import ChatwootContacts
from sinks.postgres.consent import PostgresConsentRecords
from sinks.postgres.contact_data import PostgresContactData
from sinks.postgres.deletions import PostgresDeletions
from sinks.postgres.pool import Database
from streams.bootstrap.shared import Shared
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
from streams.runtime.emit import TopicLog
from streams.runtime.keyed import KafkaKeyed
from streams.runtime.types import App, Stream
from switchboard.retrying import until_done
from switchboard.settings import Settings

log = structlog.get_logger(__name__)

ERASURE_TIMER_SECONDS = 2.0
CHATWOOT_TIMEOUT_SECONDS = 10.0


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


def wire_contacts(shared: Shared) -> ConsentView:
    """Declare consent and erasure on the app; the consent view is the converse agent's."""
    app, settings = shared.app, shared.settings
    prefix = settings.switchboard_topic_prefix
    # Faust's default table codecs: keys and values JSON (the view reads them so).
    table = app.Table("consent", partitions=settings.switchboard_topic_partitions)
    view = ConsentView()
    contact_events = app.topic(
        CONTACT_EVENTS.full_name(prefix), key_serializer="raw", value_serializer="raw"
    )
    keys, proofs = KafkaKeyed.on(app, DATA_KEYS, prefix), KafkaKeyed.on(app, ERASURES, prefix)
    http = httpx.AsyncClient(timeout=CHATWOOT_TIMEOUT_SECONDS, follow_redirects=False)
    metrics = ErasureMetrics(shared.metrics.registry)
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
                    await shared.database.get(),
                    events=shared.action_log,
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
        db = await shared.database.get()
        handler = ContactEvents(
            ConsentKeeper(table, PostgresConsentRecords(db), view), await eraser(), start
        )
        # Opened like every agent's events: a consent change from the API carries its ip
        # address sealed, and a replay must not record consent of a forgotten contact.
        async for _, event in shared.opened(stream, shared.dead_letters):
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
    return view
