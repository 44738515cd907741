"""The worker, assembled in one place: `bootstrap` reads Settings, builds what the agents
share (the PostgreSQL pool, the key ring, the metrics, the dead letters, the sealed topic
log) and declares every agent, table, timer and task on one Faust app. The agents
themselves are plain classes that receive their dependencies (`streams.storage`,
`streams.conversation`, `streams.delivery`, `streams.contact_events`, `streams.exports`,
`streams.retention`); the modules here only wire them:

- `metrics`: /metrics and /health/detailed, the lag monitor, the erasure backlog, the
  commit watch;
- `contacts`: the ``consent`` table, the ``contacts`` agent (consent changes and erasure
  requests from ``contact-events.v1``), the erasure and roll timers;
- `conversations`: ``store``, ``converse`` and ``deliver``, with the ``conversation-state``
  table;
- `exports`: the ``exports`` agent; `retention`: the retention crontab, on the leader only.

The agents share one consumer group and one PostgreSQL pool, and every agent acknowledges
an offset only after its work for that record is done.
"""

from __future__ import annotations

from dataclasses import dataclass

from datakeys.build import build_keyring
from datakeys.keyring import KeyRing
from schemas.catalogue import DEAD_LETTER
from sinks.postgres.pool import LazyDatabase
from streams.bootstrap.contacts import wire_contacts
from streams.bootstrap.conversations import wire_conversations, wire_store
from streams.bootstrap.exports import wire_exports
from streams.bootstrap.metrics import wire_commit_watch, wire_metrics
from streams.bootstrap.retention import wire_retention
from streams.bootstrap.shared import DatabaseSource, Shared, SharedKeyRing, connect_database
from streams.metrics.registry import WorkerMetrics
from streams.runtime.app import create_app
from streams.runtime.dead_letter import DeadLetters
from streams.runtime.emit import TopicLog
from streams.runtime.types import App
from switchboard.database import pool_config
from switchboard.settings import Settings


@dataclass(frozen=True)
class Worker:
    app: App
    metrics: WorkerMetrics  # the registry the worker's /metrics serves


def bootstrap(
    settings: Settings,
    *,
    database: DatabaseSource | None = None,
    keyring: KeyRing | None = None,
) -> Worker:
    """The worker's Faust app, wired from Settings; a test may pass its own database or
    key ring (`datakeys.testing`) in place of the ones Settings names."""
    app = create_app(settings)
    prefix = settings.switchboard_topic_prefix
    # Waits for PostgreSQL rather than crash: a worker may start before its database.
    database = database or LazyDatabase(
        pool_config(settings), connect_timeout=None, connect=connect_database
    )
    metrics = wire_metrics(app, settings, database)
    wire_commit_watch(app, settings, metrics)
    dead_letters = DeadLetters(
        app.topic(DEAD_LETTER.full_name(prefix), key_serializer="raw", value_serializer="raw"),
        counted=metrics.dead_letter,
    )
    keys = SharedKeyRing(keyring or build_keyring(settings, database.get))
    shared = Shared(
        app,
        settings,
        database,
        keys,
        metrics,
        dead_letters,
        action_log=TopicLog(app, prefix, keys.unstarted()),
    )
    # JSON keys and values; the changelog is compacted and co-partitioned with inbound.
    state_table = app.Table("conversation-state", partitions=settings.switchboard_topic_partitions)
    consent = wire_contacts(shared)
    wire_store(shared)
    wire_conversations(shared, state_table, consent)
    wire_exports(shared)
    wire_retention(shared)

    async def close(app: App, **_: object) -> None:
        await keys.close()
        await database.close()

    app.on_before_shutdown.connect(close)  # type: ignore[arg-type]
    return Worker(app, metrics)
