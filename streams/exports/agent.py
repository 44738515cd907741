"""The ``exports`` agent: export requests on contact-events.v1 → an archive on disk.

Per request, in this order: make sure the ``gdpr_exports`` row exists; skip an export
that is already completed or deleted, or whose contact was erased since it was asked
for; gather the contact's rows and assemble the archive (pure); write the file
atomically; mark the row completed with its path and size — or, if an erasure won the
race meanwhile, remove the file again. The offset is acknowledged after that, so a crash
redoes the export, which overwrites the same file. A file that cannot be written marks
the export failed; database errors are retried (the partition waits).

A request confirmed in the chat is answered there: once the export is completed (now or
before), its signed download link goes to the conversation as a reply with an id of its
own, so a redelivered or replayed request finds it already delivered and sends nothing
again; a failed export hands the conversation to a person instead.

Consent, identity and erasure events on the same topic are another agent's work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import structlog

from schemas.events import Event
from sinks.export import links
from sinks.export.archive import assemble, encode_archive
from sinks.export.export_rows import ExportState, ExportStore
from sinks.export.writer import BadExportIdError, archive_path, remove, write_atomically
from streams.exports.requests import ExportRequest, export_request, failure_handoff, link_reply

log = structlog.get_logger(__name__)


class ActionLog(Protocol):
    async def emit(self, events: Sequence[Event]) -> None:
        """Return once every event is acknowledged by Kafka."""
        ...


@dataclass(frozen=True)
class LinkSigner:
    """Signs download links as the compliance API checks them (`sinks.export.links`)."""

    public_url: str
    key: bytes = field(repr=False)

    def url(self, export_id: str, expires_at: datetime) -> str:
        expires = links.link_expiry(expires_at)
        return links.download_url(self.public_url, self.key, export_id, expires)


class Exports:
    def __init__(
        self,
        store: ExportStore,
        directory: Path,
        link_days: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        finished: Callable[[str], None] = lambda outcome: None,
        *,
        actions: ActionLog | None = None,
        signer: LinkSigner | None = None,
    ) -> None:
        self.store = store
        self.directory = directory
        self.link_days = link_days
        self.clock = clock
        # Told each export's outcome (completed, failed, skipped, discarded), for metrics.
        self.finished = finished
        # Where a chat request's link (or the word that it failed) is sent.
        self.actions = actions
        self.signer = signer

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
        if state.status == "completed":
            log.info("export_skipped", export_id=request.export_id, status=state.status)
            self.finished("skipped")
            await self._send_link(request, state)
            return
        if state.status == "deleted":
            log.info("export_skipped", export_id=request.export_id, status=state.status)
            self.finished("skipped")
            return
        if state.erased:
            await self.store.fail(request.export_id, "the contact was erased")
            log.info("export_skipped", export_id=request.export_id, status="erased")
            self.finished("skipped")
            return
        outcome = await self._make(request, state)
        self.finished(outcome)
        if outcome == "completed":
            await self._send_link(request, state)
        elif outcome == "failed":
            await self._send_failure(request)

    async def _make(self, request: ExportRequest, state: ExportState) -> str:
        """Write the archive and complete the row; the outcome's name."""
        try:
            path = archive_path(self.directory, request.export_id)
        except BadExportIdError:
            await self.store.fail(request.export_id, "invalid export id")
            return "failed"
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
            return "failed"
        if not await self.store.complete(request.export_id, str(path), size, now):
            # An erasure (or a deletion of the export) came first: the archive must not stay.
            await asyncio.to_thread(remove, path)
            log.info("export_discarded", export_id=request.export_id)
            return "discarded"
        log.info("export_completed", export_id=request.export_id, size_bytes=size)
        return "completed"

    async def _send_link(self, request: ExportRequest, state: ExportState) -> None:
        reply_to = request.reply_to
        if reply_to is None or self.actions is None or self.signer is None:
            return
        expires_at = state.expires_at or request.expires_at
        url = self.signer.url(request.export_id, expires_at)
        await self.actions.emit([link_reply(request, reply_to, url, expires_at)])
        log.info("export_link_sent", export_id=request.export_id)

    async def _send_failure(self, request: ExportRequest) -> None:
        if request.reply_to is not None and self.actions is not None:
            await self.actions.emit([failure_handoff(request, request.reply_to)])
