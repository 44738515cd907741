"""Every way a compliance request is refused: status code, metric outcome, clear message.

The messages never quote what the caller sent as a contact: it may be a phone number.
"""

from __future__ import annotations

from ingest.errors import Refused


class ComplianceRefused(Refused):
    pass


class InvalidRequest(ComplianceRefused):
    status_code = 400
    outcome = "invalid"


class Unauthenticated(ComplianceRefused):
    status_code = 401
    outcome = "unauthenticated"

    def __init__(self, detail: str, key_id: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="switchboard"'})
        # Set when the key was identified (revoked, wrong secret): the refusal is audited.
        self.key_id = key_id


class Forbidden(ComplianceRefused):
    status_code = 403
    outcome = "forbidden"


class BadLink(ComplianceRefused):
    status_code = 403
    outcome = "bad_signature"


class NotFound(ComplianceRefused):
    status_code = 404
    outcome = "not_found"


class Gone(ComplianceRefused):
    status_code = 410
    outcome = "expired"


class DatabaseUnavailable(ComplianceRefused):
    status_code = 503
    outcome = "unavailable"

    def __init__(self, detail: str = "the database is unavailable; retry later") -> None:
        super().__init__(detail, headers={"Retry-After": "5"})
