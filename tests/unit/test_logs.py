"""Log output: JSON lines with the bound correlation id, no personal fields, no ANSI codes
when not on a terminal, and no httpx request lines."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from switchboard import logs, scrub
from tests.fakes.outbound_actions import reply


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    """structlog's configuration and context are global: restore them after each test."""
    before = structlog.get_config()
    yield
    structlog.contextvars.clear_contextvars()
    structlog.configure(**before)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_bound_event_puts_its_ids_on_every_line() -> None:
    """While an event is handled, any module's log lines carry its correlation id."""
    out = io.StringIO()
    logs.configure("INFO", json_output=True, stream=out)
    logs.bind_event(reply(), partition=0, offset=41)
    structlog.get_logger("sinks.outbound.sender").info("outbound_step_delivered", step="reply")
    (line,) = _lines(out)
    assert line["correlation_id"] == "correlation-1"
    assert line["event_id"] == scrub.message_ids("reply:wa:wamid.1")
    assert line["conversation"] == "conversation-key"
    assert (line["partition"], line["offset"]) == (0, 41)  # where to find its record


def test_the_next_event_replaces_the_previous_ids() -> None:
    """Ids of an earlier event never stick to the next one's lines."""
    out = io.StringIO()
    logs.configure("INFO", json_output=True, stream=out)
    logs.bind_event(reply(), partition=2, offset=7)
    logs.bind_event(object())  # an event without ids
    structlog.get_logger().info("next")
    (line,) = _lines(out)
    assert "correlation_id" not in line
    assert "event_id" not in line
    assert "offset" not in line


def test_personal_fields_are_redacted() -> None:
    """A personal field passed by mistake is replaced, whatever module logs it."""
    out = io.StringIO()
    logs.configure("INFO", json_output=True, stream=out)
    structlog.get_logger().info("oops", text="Where is my parcel?", phone="15551234567")
    assert "parcel" not in out.getvalue()
    assert "15551234567" not in out.getvalue()


def test_whatsapp_message_ids_are_logged_as_a_digest() -> None:
    """A wamid's base64 spells the customer's number: lines carry a digest of it, the same
    for every line about that message."""
    wamid = "wamid.HBgLMTU1NTEyMzQ1NjcVAgASGBQzQUJDMTIzNDU2Nzg5MEFCQ0RFRgA="
    out = io.StringIO()
    logs.configure("INFO", json_output=True, stream=out)
    structlog.get_logger().info("one", event_id=f"wa:{wamid}")
    structlog.get_logger().info("two", action_id=f"reply:wa:{wamid}")
    first, second = _lines(out)
    assert "HBgLMTU1NTEyMzQ1Njc" not in out.getvalue()
    digest = str(first["event_id"]).removeprefix("wa:")
    assert digest.startswith("wamid~")
    assert second["action_id"] == f"reply:wa:{digest}"


def test_console_output_has_no_colour_codes_off_a_terminal() -> None:
    """Development's console renderer writes plain text into files and pipes."""
    out = io.StringIO()
    logs.configure("INFO", json_output=False, stream=out)
    logs.bind_correlation("abc123")
    structlog.get_logger().info("hello")
    assert "\x1b[" not in out.getvalue()
    assert "correlation_id=abc123" in out.getvalue()


def test_httpx_request_lines_are_silenced() -> None:
    """httpx logs request URLs at INFO; they can hold phone number ids."""
    logs.configure("DEBUG", json_output=True, stream=io.StringIO())
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    assert logging.getLogger("httpx").isEnabledFor(logging.WARNING)
