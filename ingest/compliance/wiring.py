"""Build the compliance service and its authenticator from Settings, for ingest and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.compliance.audit import PostgresAuditTrail, PostgresRefusalLog
from ingest.compliance.auth import Authenticator
from ingest.compliance.keystore import KeyStore
from ingest.compliance.ports import Connections
from ingest.compliance.recorder import RefusalRecorder
from ingest.compliance.request_rows import ComplianceStore
from ingest.compliance.service import ComplianceService, ExportLinks
from ingest.producer import EventLog
from ingest.ratelimit import RateLimiter
from schemas.keys import Pseudonymizer
from switchboard.settings import Settings


@dataclass(frozen=True)
class Compliance:
    service: ComplianceService
    authenticator: Authenticator
    keys: KeyStore
    audit: PostgresAuditTrail
    # Requests under /gdpr per client address, whatever they are, before anything is read.
    client_limiter: RateLimiter
    refusals: RefusalRecorder


def export_links(settings: Settings) -> ExportLinks:
    return ExportLinks(
        public_url=settings.switchboard_public_url,
        key=settings.switchboard_export_url_key.get_secret_value().encode(),
        link_days=settings.switchboard_export_link_days,
        export_dir=settings.switchboard_export_dir,
    )


def build_compliance(settings: Settings, database: Connections, log: EventLog) -> Compliance:
    audit = PostgresAuditTrail(database)
    keys = KeyStore(database)
    service = ComplianceService(
        ComplianceStore(database),
        log,
        audit,
        Pseudonymizer(settings.switchboard_pseudonym_key.get_secret_value().encode()),
        export_links(settings),
    )
    key_limiter = RateLimiter(settings.switchboard_compliance_key_per_minute)
    return Compliance(
        service,
        Authenticator(keys, audit, key_limiter),
        keys,
        audit,
        client_limiter=RateLimiter(settings.switchboard_compliance_client_per_minute),
        refusals=RefusalRecorder(PostgresRefusalLog(database)),
    )
