"""Every way a webhook request is refused, with its status code and metric outcome."""

from __future__ import annotations


class Refused(Exception):  # noqa: N818 - a refusal is an outcome, not a bug
    status_code: int = 400
    outcome: str = "malformed"

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class BadSignature(Refused):
    status_code = 403
    outcome = "bad_signature"


class StaleSignature(BadSignature):
    """Authentic, but signed too long ago (or ahead): a replay is refused like a forgery,
    and counted apart so that replays can be seen."""

    outcome = "stale_timestamp"


class Malformed(Refused):
    status_code = 400
    outcome = "malformed"


class Oversized(Refused):
    status_code = 413
    outcome = "oversized"


class UnsupportedMediaType(Refused):
    status_code = 415
    outcome = "unsupported_media_type"


class RateLimited(Refused):
    status_code = 429
    outcome = "rate_limited"


class NotConfigured(Refused):
    status_code = 404
    outcome = "not_configured"


class LogUnavailable(Refused):
    """Kafka did not acknowledge in time: the sender must retry, nothing is promised."""

    status_code = 503
    outcome = "broker_unavailable"


class Busy(Refused):
    """Too many large bodies are being read at once (ingest/admission.py): refused before
    this one is read; the sender retries."""

    status_code = 503
    outcome = "busy"


class KeysUnavailable(Refused):
    """A new contact's data key could not be made or read now (PostgreSQL or Kafka away):
    nothing was written; the sender retries."""

    status_code = 503
    outcome = "keys_unavailable"
