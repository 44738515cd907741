"""structlog configuration: JSON lines in production, readable console in development.

The one entry point is `configure()`, called where a process is wired up. A last-line
processor drops fields that could carry personal data, in case one slips into a call.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

PERSONAL_FIELDS = frozenset(
    {"text", "body", "content", "phone", "phone_number", "name", "email", "personal", "wa_id"}
)


def drop_personal_fields(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in PERSONAL_FIELDS & event_dict.keys():
        event_dict[key] = "[redacted]"
    return event_dict


def configure(level: str = "INFO", json_output: bool = True) -> None:
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        drop_personal_fields,
        structlog.processors.format_exc_info,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
