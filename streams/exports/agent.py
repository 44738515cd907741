"""The ``exports`` agent: export requests on contact-events.v1 → an archive on disk.

Per request, in this order: make sure the ``gdpr_exports`` row exists; skip an export
that is already completed or deleted, or whose contact was erased since it was asked
for; gather the contact's rows and assemble the archive (pure); write the file
atomically; mark the row completed with its path and size — or, if an erasure won the
race meanwhile, remove the file again. The offset is acknowledged after that, so a crash
redoes the export, which overwrites the same file. A file that cannot be written marks
the export failed; database errors are retried (the partition waits).

Consent, identity and erasure events on the same topic are another agent's work.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import faust
import structlog
from faust.types import EventT, StreamT

from schemas.catalogue import CONTACT_EVENTS
from schemas.events import Event
from sinks.export.archive import assemble, encode_archive
from sinks.export.store import ExportStore
from sinks.export.writer import BadExportIdError, archive_path, remove, write_atomically
from sinks.postgres.pool import Database
from streams.dead_letter import DeadLetters
from streams.exports.requests import ExportRequest, export_request
from streams.retry import until_done
from switchboard.settings import Settings

log = structlog.get_logger(__name__)

_FINISHED = frozenset({"completed", "deleted"})


class Exports:
    def __init__(
        self,
        store: ExportStore,
        directory: Path,
        link_days: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        finished: Callable[[str], None] = lambda outcome: None,
    ) -> None:
        self.store = store
        self.directory = directory
        self.link_days = link_days
        self.clock = clock
        # Told each export's outcome (completed, failed, skipped, discarded), for metrics.
        self.finished = finished

    async def handle(self, event: Event) -> None:
        request = export_request(event, self.link_days)
        if request is not None:
            await self.export(request)

    async def export(self, request: ExportRequest) -> None:
        state = await self.store.open(
            request.export_id,
            request.contact_id,
            request.requested_by,
            request.requested_at,
            request.expires_at,
        )
        if state.status in _FINISHED:
            log.info("export_skipped", export_id=request.export_id, status=state.status)
            self.finished("skipped")
            return
        if state.erased:
            await self.store.fail(request.export_id, "the contact was erased")
            log.info("export_skipped", export_id=request.export_id, status="erased")
            self.finished("skipped")
            return
        try:
            path = archive_path(self.directory, request.export_id)
        except BadExportIdError:
            await self.store.fail(request.export_id, "invalid export id")
            self.finished("failed")
            return
        now = self.clock()
        data = encode_archive(assemble(await self.store.gather(state.contact_id), now))
        try:
            size = await asyncio.to_thread(write_atomically, path, data)
        except OSError as exc:
            # Not log.exception: the message may carry a path, the traceback nothing useful.
            log.error(  # noqa: TRY400
                "export_failed", export_id=request.export_id, error=type(exc).__name__
            )
            await self.store.fail(request.export_id, f"archive not written: {type(exc).__name__}")
            self.finished("failed")
            return
        if not await self.store.complete(request.export_id, str(path), size, now):
            # An erasure (or a deletion of the export) came first: the archive must not stay.
            await asyncio.to_thread(remove, path)
            log.info("export_discarded", export_id=request.export_id)
            self.finished("discarded")
            return
        log.info("export_completed", export_id=request.export_id, size_bytes=size)
        self.finished("completed")


class DatabaseSource(Protocol):
    async def get(self) -> Database: ...


Decoded = Callable[[StreamT[bytes], DeadLetters], AsyncIterator[tuple[EventT[bytes], object]]]


def register_exports(
    app: faust.App,
    settings: Settings,
    database: DatabaseSource,
    dead_letters: DeadLetters,
    decoded: Decoded,
    *,
    finished: Callable[[str], None] = lambda outcome: None,
) -> None:
    """Add the ``exports`` agent; ``decoded`` is the worker's manual-ack event iterator."""
    topic = app.topic(
        CONTACT_EVENTS.full_name(settings.switchboard_topic_prefix),
        key_serializer="raw",
        value_serializer="raw",
    )

    @app.agent(topic, name="exports")
    async def exports(stream: StreamT[bytes]) -> None:
        handler = Exports(
            ExportStore(await database.get()),
            settings.switchboard_export_dir,
            settings.switchboard_export_link_days,
            finished=finished,
        )
        async for _, event in decoded(stream, dead_letters):
            await until_done(
                lambda: handler.handle(event),  # type: ignore[arg-type]  # noqa: B023
                "exports",
            )
