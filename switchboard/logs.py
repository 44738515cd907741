"""structlog configuration: JSON lines in production, readable console in development.

The one entry point is `configure()`, called where a process is wired up. A last-line
processor drops fields that could carry personal data, in case one slips into a call.

A correlation id follows an event from the webhook (ingest binds the request's id, which
becomes the envelope's ``correlation_id``) through the flow to the outbound call (the
worker binds each event's ids with `bind_event` while it handles it): structlog's
contextvars put it on every line logged meanwhile, by any module.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from switchboard.scrub import message_ids

PERSONAL_FIELDS = frozenset(
    {
        "text",
        "body",
        "content",
        "phone",
        "phone_number",
        "name",
        "email",
        "personal",
        "wa_id",
        "ip_address",
    }
)
# Bound while one event is handled; pseudonymous, random, or the record's place in the log.
EVENT_FIELDS = ("correlation_id", "event_id", "conversation", "partition", "offset")
# Their INFO lines quote request URLs, which can carry phone number ids and contact ids.
QUIET_LOGGERS = ("httpx", "httpcore")


def drop_personal_fields(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in PERSONAL_FIELDS & event_dict.keys():
        event_dict[key] = "[redacted]"
    return event_dict


def pseudonymise_message_ids(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Event and action ids of WhatsApp messages carry the message id, whose base64 spells
    the customer's number: each line keeps a digest of it instead (`scrub.message_ids`)."""
    for key, value in event_dict.items():
        if isinstance(value, str) and "wamid." in value:
            event_dict[key] = message_ids(value)
    return event_dict


def bind_correlation(correlation_id: str) -> None:
    """Put ``correlation_id`` on every log line of the current task from now on."""
    structlog.contextvars.bind_contextvars(correlation_id=correlation_id)


def bind_event(event: object, partition: int | None = None, offset: int | None = None) -> None:
    """Bind an event's correlation id, id and subject (the conversation key), and where its
    record is in the log, replacing the previous event's, for the log lines and error
    reports of its handling."""
    structlog.contextvars.unbind_contextvars(*EVENT_FIELDS)
    ids = {
        "correlation_id": getattr(event, "correlation_id", None),
        "event_id": getattr(event, "id", None),
        "conversation": getattr(event, "subject", None),
        "partition": partition,
        "offset": offset,
    }
    structlog.contextvars.bind_contextvars(**{k: v for k, v in ids.items() if v not in (None, "")})


def renderer(json_output: bool, stream: TextIO) -> Any:
    """JSON lines, or the console renderer, coloured only when writing to a terminal."""
    if json_output:
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=stream.isatty())


def configure(level: str = "INFO", json_output: bool = True, stream: TextIO | None = None) -> None:
    out = stream or sys.stderr
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        drop_personal_fields,
        pseudonymise_message_ids,
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[*processors, renderer(json_output, out)],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=True,
    )
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
