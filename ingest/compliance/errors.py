"""Every way a compliance request is refused: status code, metric outcome, clear message.

The messages never quote what the caller sent as a contact: it may be a phone number.

A refusal of a caller who proved no key (and of a key over its rate) is *counted*: it adds
to a count per minute and reason (``audit_refusals``, `ingest.compliance.refusals`) instead
of writing an audit row, since anyone can cause such refusals as fast as the rate limit
lets them. Every other refusal names an authenticated actor and is audited row by row.
"""

from __future__ import annotations

from typing import Literal, get_args

from ingest.errors import RequestRefused
from ingest.ratelimit import retry_after_header

# Why a counted refusal was counted: a fixed vocabulary (metric labels, audit_refusals rows).
CountedReason = Literal[
    "missing_key",
    "malformed_key",
    "unknown_key",
    "wrong_secret",
    "rate_limited",
    "bad_link",
    "expired_link",
    "export_gone",
    "invalid_body",
]
COUNTED_REASONS: tuple[CountedReason, ...] = get_args(CountedReason)

# Why a key was refused: the counted reasons, or a revoked key that proved its secret.
KeyRefusal = Literal["missing_key", "malformed_key", "unknown_key", "wrong_secret", "revoked_key"]


class ComplianceRefused(RequestRefused):
    def __init__(
        self,
        detail: str,
        headers: dict[str, str] | None = None,
        *,
        counted_as: CountedReason | None = None,
        counted_key: str = "",
    ) -> None:
        super().__init__(detail, headers)
        # Set for refusals that are counted rather than audited; the key id a counted
        # refusal named (a real key's prefix with a wrong secret, a key over its rate).
        self.counted_as = counted_as
        self.counted_key = counted_key


class InvalidRequest(ComplianceRefused):
    status_code = 400
    outcome = "invalid"


class Unauthenticated(ComplianceRefused):
    status_code = 401
    outcome = "unauthenticated"

    def __init__(self, detail: str, reason: KeyRefusal, key_id: str | None = None) -> None:
        # Only a revoked key proved its secret: its holder is known and audited by key id.
        # Anyone can send the rest (a wrong secret only needs a key's prefix): counted.
        counted: CountedReason | None = None if reason == "revoked_key" else reason
        super().__init__(
            detail,
            {"WWW-Authenticate": 'Bearer realm="switchboard"'},
            counted_as=counted,
            counted_key=key_id or "",
        )
        self.reason = reason
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


class NotOwned(NotFound):
    """An export or erasure another key asked for: answered exactly as an unknown id, so a
    key learns nothing about others' requests, and counted apart."""

    outcome = "not_owner"


class Gone(ComplianceRefused):
    status_code = 410
    outcome = "expired"


class RateLimited(ComplianceRefused):
    status_code = 429
    outcome = "rate_limited"

    def __init__(self, wait_seconds: float, key_id: str = "") -> None:
        retry_after = retry_after_header(wait_seconds)
        super().__init__(
            f"too many requests; retry after {retry_after} seconds",
            {"Retry-After": retry_after},
            counted_as="rate_limited",
            counted_key=key_id,
        )


class DatabaseUnavailable(ComplianceRefused):
    status_code = 503
    outcome = "unavailable"

    def __init__(self, detail: str = "the database is unavailable; retry later") -> None:
        super().__init__(detail, headers={"Retry-After": "5"})
