"""The compliance service: one implementation of consent, export and erasure requests,
used by the HTTP API and by the operator CLI alike.

Each call is audited with its outcome, refusals included, except refused downloads: a
download link is the only credential there, so anyone can cause those, and they are
counted (errors.py) rather than audited. Exports and erasures belong to whoever asked for
them: a status is shown to its requester, or to a reader of everything (``owner=None``:
keys with ``gdpr:read-all``, operators at the CLI). Events go to the log through
ingest's `EventLog`, keyed by the pseudonymous contact id; personal data (a consent's ip
address) only ever sits in the event's ``personal`` fields.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingest.compliance.audit import Action, AuditEntry, AuditTrail, is_our_id, our_id
from ingest.compliance.auth import may_read
from ingest.compliance.errors import BadLink, Gone, InvalidRequest, NotFound, NotOwned
from ingest.compliance.identities import parse_contact
from ingest.compliance.models import (
    ConsentAccepted,
    ConsentRequest,
    DeletionStatus,
    DeletionTarget,
    ErasureAccepted,
    ErasureRequest,
    ExportAccepted,
    ExportStatus,
)
from ingest.compliance.request_rows import ComplianceStore
from ingest.errors import RequestRefused
from ingest.producer import EventLog
from schemas.events import (
    ConsentChanged,
    ConsentChangedData,
    ErasureRequested,
    ErasureRequestedData,
    ExportRequested,
    ExportRequestedData,
    Personal,
)
from schemas.keys import Pseudonymizer
from sinks.export import links

# What callers are told to expect; the export worker usually needs seconds.
ESTIMATED_EXPORT_MINUTES = 5
LINK_ACTOR = "signed-link"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ExportLinks:
    public_url: str
    key: bytes
    link_days: int
    export_dir: Path


@dataclass
class _Audit:
    subject: str | None = None
    detail: dict[str, str] = field(default_factory=dict)
    outcome: str = "ok"


class ComplianceService:
    def __init__(
        self,
        store: ComplianceStore,
        log: EventLog,
        audit: AuditTrail,
        keys: Pseudonymizer,
        links: ExportLinks,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.log = log
        self.audit = audit
        self.keys = keys
        self.links = links
        self.clock = clock

    @asynccontextmanager
    async def _audited(self, actor: str, action: Action) -> AsyncIterator[_Audit]:
        audit = _Audit()
        try:
            yield audit
        except RequestRefused as refused:
            audit.outcome = refused.outcome
            raise
        except Exception:
            audit.outcome = "error"
            raise
        finally:
            await self.audit.record(
                AuditEntry(actor, action, audit.outcome, audit.subject, audit.detail)
            )

    async def resolve(self, contact: str) -> str:
        """The pseudonymous contact id of a ``ct_…`` id or provider identity it holds data
        about; NotFound otherwise."""
        ref = parse_contact(contact)
        contact_id = ref.contact_id
        if ref.identity is not None:
            contact_id = await self.store.contact_for_identity(ref.identity.key(self.keys))
            if contact_id is not None:
                return contact_id
            # Not recorded (yet): a contact known only by this identity has this id.
            contact_id = ref.identity.derived_contact_id(self.keys)
        if contact_id is None or not await self.store.contact_known(contact_id):
            raise NotFound("no contact is known by that identifier")
        return contact_id

    async def record_consent(
        self, actor: str, request: ConsentRequest, *, origin: str, correlation_id: str
    ) -> ConsentAccepted:
        async with self._audited(actor, "consent.record") as audit:
            audit.detail = {"consent_type": request.consent_type, "granted": str(request.granted)}
            contact_id = audit.subject = await self.resolve(request.contact)
            ip = str(request.ip_address) if request.ip_address is not None else None
            event = ConsentChanged(
                id=f"consent:{uuid.uuid4().hex}",
                source="switchboard",
                time=self.clock(),
                subject=contact_id,
                correlation_id=correlation_id,
                data=ConsentChangedData(
                    contact_id=contact_id,
                    consent_type=request.consent_type,
                    granted=request.granted,
                    reason=request.source,
                    origin=origin,
                    personal=Personal(ip_address=ip),
                ),
            )
            await self.log.append([event])
            audit.outcome = "accepted"
            audit.detail["event_id"] = event.id
            return ConsentAccepted(event_id=event.id, contact_id=contact_id)

    async def request_export(
        self, actor: str, contact: str, *, correlation_id: str
    ) -> ExportAccepted:
        async with self._audited(actor, "export.request") as audit:
            contact_id = audit.subject = await self.resolve(contact)
            export_id = "exp_" + secrets.token_hex(16)
            expires_at = self.clock() + timedelta(days=self.links.link_days)
            event = ExportRequested(
                id=f"export.requested:{export_id}",
                source="switchboard",
                time=self.clock(),
                subject=contact_id,
                correlation_id=correlation_id,
                data=ExportRequestedData(
                    contact_id=contact_id, export_id=export_id, requested_by=actor
                ),
            )
            await self.store.create_export(
                export_id, contact_id, actor, expires_at, lambda: self.log.append([event])
            )
            audit.outcome = "accepted"
            audit.detail = {"export_id": export_id}
            return ExportAccepted(
                export_id=export_id,
                contact_id=contact_id,
                estimated_time_minutes=ESTIMATED_EXPORT_MINUTES,
                expires_at=expires_at,
            )

    async def export_status(self, actor: str, export_id: str, *, owner: str | None) -> ExportStatus:
        """The export's state and, once completed, its download link. ``owner``: the
        requester the export must belong to (None: anyone's)."""
        async with self._audited(actor, "export.status") as audit:
            audit.detail = {"export_id": our_id(export_id)}
            # An id we never issue is not looked up: PostgreSQL refuses some text (NUL).
            row = await self.store.export(export_id) if is_our_id(export_id) else None
            if row is None:
                raise NotFound("no export has that id")
            if not may_read(owner, {row.requested_by}):
                raise NotOwned("no export has that id")
            audit.subject = row.contact_id
            status = row.status
            url = None
            if status == "completed" and row.expires_at <= self.clock():
                status = "expired"
            elif status == "completed":
                expires = links.link_expiry(row.expires_at)
                url = links.download_url(
                    self.links.public_url, self.links.key, row.export_id, expires
                )
            return ExportStatus(
                status=status,
                export_id=row.export_id,
                expires_at=row.expires_at,
                completed_at=row.completed_at,
                download_url=url,
            )

    async def open_download(
        self, export_id: str, expires: str | None, signature: str | None
    ) -> Path:
        """The archive a signed link points to; the link is the only credential. A download
        served is audited against its contact; a refusal is counted by the caller."""
        now = self.clock()
        try:
            links.verify(self.links.key, export_id, expires, signature, now)
        except links.LinkRefused as exc:
            raise BadLink(str(exc), counted_as="bad_link") from exc
        except links.LinkExpired as exc:
            raise Gone(str(exc), counted_as="expired_link") from exc
        row = await self.store.export(export_id)
        if row is None or row.status != "completed" or not row.path:
            raise NotFound("this export does not exist any more", counted_as="export_gone")
        if row.expires_at <= now:
            raise Gone("this export has expired; ask for a new one", counted_as="expired_link")
        path = self._archive(row.path)
        await self.audit.record(
            AuditEntry(
                LINK_ACTOR, "export.download", "served", row.contact_id, {"export_id": export_id}
            )
        )
        return path

    def _archive(self, stored: str) -> Path:
        # Only files inside the export folder are ever served, whatever the row says.
        path = Path(stored).resolve()
        if not path.is_relative_to(self.links.export_dir.resolve()) or not path.is_file():
            raise NotFound("this export does not exist any more", counted_as="export_gone")
        return path

    async def request_erasure(
        self, actor: str, contact: str, request: ErasureRequest, *, correlation_id: str
    ) -> ErasureAccepted:
        async with self._audited(actor, "erasure.request") as audit:
            audit.detail = {"reason": request.reason}
            if not request.confirmation:
                raise InvalidRequest(
                    "confirmation must be true: erasure removes the contact's data everywhere "
                    "and cannot be undone"
                )
            contact_id = audit.subject = await self.resolve(contact)
            existing = await self.store.open_deletion(contact_id)
            if existing is not None:
                # Asked twice: the erasure under way covers it, and the second requester may
                # follow it as well as the first.
                if actor not in existing.requested_by:
                    await self.store.add_requester(existing.deletion_id, actor)
                audit.outcome = "already_pending"
                audit.detail["deletion_id"] = existing.deletion_id
                return self._accepted(existing.deletion_id, contact_id, existing.status)
            deletion_id = "del_" + secrets.token_hex(16)
            event = ErasureRequested(
                id=f"erasure.requested:{deletion_id}",
                source="switchboard",
                time=self.clock(),
                subject=contact_id,
                correlation_id=correlation_id,
                data=ErasureRequestedData(
                    contact_id=contact_id,
                    deletion_id=deletion_id,
                    reason=request.reason,
                    requested_by=actor,
                ),
            )
            await self.store.create_deletion(
                deletion_id, contact_id, request.reason, actor, lambda: self.log.append([event])
            )
            audit.outcome = "accepted"
            audit.detail["deletion_id"] = deletion_id
            return self._accepted(deletion_id, contact_id, "pending")

    def _accepted(self, deletion_id: str, contact_id: str, status: str) -> ErasureAccepted:
        return ErasureAccepted(
            deletion_id=deletion_id,
            contact_id=contact_id,
            status=status,
            status_url=f"{self.links.public_url.rstrip('/')}/gdpr/deletions/{deletion_id}",
        )

    async def deletion_status(
        self, actor: str, deletion_id: str, *, owner: str | None
    ) -> DeletionStatus:
        """An erasure's state and each target's. ``owner``: a requester the erasure must
        have (None: anyone's)."""
        async with self._audited(actor, "deletion.status") as audit:
            audit.detail = {"deletion_id": our_id(deletion_id)}
            found = await self.store.deletion(deletion_id) if is_our_id(deletion_id) else None
            if found is None:
                raise NotFound("no deletion has that id")
            row, targets = found
            if not may_read(owner, row.requested_by):
                raise NotOwned("no deletion has that id")
            audit.subject = row.contact_id
            return DeletionStatus(
                deletion_id=row.deletion_id,
                contact_id=row.contact_id,
                status=row.status,
                reason=row.reason,
                requested_at=row.requested_at,
                completed_at=row.completed_at,
                targets=[DeletionTarget(**vars(t)) for t in targets],
            )
