"""Every way a webhook request is refused, with its status code and metric outcome."""

from __future__ import annotations


class RequestRefused(Exception):  # noqa: N818 - a refusal is an outcome, not a bug
    status_code: int = 400
    outcome: str = "malformed"

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class BadSignature(RequestRefused):
    status_code = 403
    outcome = "bad_signature"


class StaleSignature(BadSignature):
    """Authentic, but signed too long ago (or ahead): a replay is refused like a forgery,
    and counted apart so that replays can be seen."""

    outcome = "stale_timestamp"


class Malformed(RequestRefused):
    status_code = 400
    outcome = "malformed"


class Oversized(RequestRefused):
    status_code = 413
    outcome = "oversized"


class UnsupportedMediaType(RequestRefused):
    status_code = 415
    outcome = "unsupported_media_type"


class RateLimited(RequestRefused):
    status_code = 429
    outcome = "rate_limited"


class NotConfigured(RequestRefused):
    status_code = 404
    outcome = "not_configured"


class LogUnavailable(RequestRefused):
    """Kafka did not acknowledge in time: the sender must retry, nothing is promised."""

    status_code = 503
    outcome = "broker_unavailable"


class LogRefused(RequestRefused):
    """Kafka refused the events for good (`sinks.kafka.errors`: not authorised, a record too
    large for its topic, a broken configuration): retrying cannot help until an operator
    acts, so not 503; nothing is promised."""

    status_code = 500
    outcome = "broker_refused"


class Busy(RequestRefused):
    """The bodies being read hold the budget (ingest/admission.py): refused as soon as this
    one's bytes do not fit; the sender retries."""

    status_code = 503
    outcome = "busy"


class TooManyBodies(RequestRefused):
    """The client is already sending as many large bodies as it may (ingest/admission.py)."""

    status_code = 429
    outcome = "too_many_bodies"


class SlowBody(RequestRefused):
    """The body did not arrive within its deadline or at the minimum rate
    (ingest/admission.py, `BodyPace`)."""

    status_code = 408
    outcome = "body_timeout"


class ClientDisconnected(RequestRefused):
    """Not a refusal: the client hung up before its body arrived, so nobody hears an answer.
    Counted apart, with nginx's 499 in logs and metrics, as it is no fault of the server."""

    status_code = 499
    outcome = "client_disconnected"


class KeysUnavailable(RequestRefused):
    """A new contact's data key could not be made or read now (PostgreSQL or Kafka away):
    nothing was written; the sender retries."""

    status_code = 503
    outcome = "keys_unavailable"
