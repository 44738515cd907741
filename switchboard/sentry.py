"""Error reports to Sentry, set up where a process is wired (the CLI), never at import.

``send_default_pii`` is off and every event passes `switchboard.scrub.scrub_event` before it
leaves. Tags come from the log context (the correlation id, the event id and the
conversation key bound by `switchboard.logs`), so a report and the log lines of the same
event find each other.
"""

from __future__ import annotations

import warnings
from typing import Any

import sentry_sdk
import structlog
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.types import Event

from switchboard.logs import EVENT_FIELDS
from switchboard.scrub import scrub_breadcrumb, scrub_event
from switchboard.settings import Settings

# Log context field → Sentry tag.
TAGS = {
    "correlation_id": "correlation_id",
    "event_id": "event_id",
    "conversation": "conversation_key",
    "partition": "kafka_partition",
    "offset": "kafka_offset",
}
assert set(TAGS) == set(EVENT_FIELDS)  # noqa: S101 - a definition-time consistency check


def init_sentry(settings: Settings, component: str) -> bool:
    """Start reporting if ``SENTRY_DSN`` is set; True when it is."""
    dsn = settings.sentry_dsn.get_secret_value() if settings.sentry_dsn else ""
    if not dsn:
        return False
    with warnings.catch_warnings():
        # sentry-sdk 2.75 deprecates send_default_pii in favour of `data_collection`; left
        # unset, both mean "no personal data" (and keep the SDK's own scrubber on): we say it
        # explicitly all the same.
        warnings.simplefilter("ignore", DeprecationWarning)
        _init(dsn, settings)
    sentry_sdk.set_tag("component", component)
    sentry_sdk.get_global_scope().add_event_processor(tag_from_log_context)
    return True


def _init(dsn: str, settings: Settings) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=settings.switchboard_env,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=settings.sentry_traces_sample_rate,
        before_send=scrub_event,  # type: ignore[arg-type]
        before_send_transaction=scrub_event,  # type: ignore[arg-type]
        before_breadcrumb=scrub_breadcrumb,
        # Our logs go through structlog; stdlib log records only become breadcrumbs.
        integrations=[LoggingIntegration(event_level=None)],
    )


def tag_from_log_context(event: Event, hint: dict[str, Any]) -> Event:
    """Add the event ids bound for logging (run where the error is captured)."""
    bound = structlog.contextvars.get_contextvars()
    tags = event.setdefault("tags", {})
    for field, tag in TAGS.items():
        if bound.get(field) not in (None, "") and tag not in tags:
            tags[tag] = str(bound[field])
    return event


def capture(exc: BaseException, **tags: str) -> None:
    """Report ``exc`` with ``tags`` (and the log context's ids); nothing if Sentry is off."""
    if not sentry_sdk.is_initialized():
        return
    with sentry_sdk.new_scope() as scope:
        for name, value in tags.items():
            scope.set_tag(name, value)
        sentry_sdk.capture_exception(exc)
