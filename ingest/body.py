"""Reading a request body safely: bounded in size and time, JSON only, no recursion bombs."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping

from starlette.types import Message, Receive

from ingest.admission import BodyPace, Reservation
from ingest.errors import ClientDisconnected, Malformed, Oversized, SlowBody, UnsupportedMediaType


def check_declared(headers: Mapping[str, str], limit: int) -> int | None:
    """Refuse before reading a byte: wrong content type, or a declared length over the limit.
    The declared length, if any."""
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType("Content-Type must be application/json")
    declared = headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Malformed("Content-Length is not a number")
        if int(declared) > limit:
            raise Oversized(f"body exceeds {limit} bytes")
        return int(declared)
    return None


async def receive_body(
    receive: Receive,
    limit: int,
    pace: BodyPace,
    reservation: Reservation | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> bytes:
    """The body from the ASGI receive channel: refused as soon as it passes the limit
    (Oversized), arrives too slowly (SlowBody) or no longer fits the budget (Busy,
    TooManyBodies, with a reservation, which holds every byte before it is kept); a
    ClientDisconnected if the client hangs up first."""
    started = clock()
    # Chunks joined once at the end: growing one buffer would copy a 3 MB body many times.
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await _next(receive, started + pace.due(size) - clock(), pace, size)
        if message["type"] != "http.request":  # http.disconnect: the client went away
            raise ClientDisconnected("client closed the connection before its body arrived")
        chunk = message.get("body", b"")
        if size + len(chunk) > limit:
            raise Oversized(f"body exceeds {limit} bytes")
        if reservation is not None:
            reservation.grow(size + len(chunk))
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _next(receive: Receive, seconds: float, pace: BodyPace, received: int) -> Message:
    """The next message, if it comes within `seconds`."""
    if seconds <= 0:
        raise SlowBody(pace.too_slow(received))
    try:
        async with asyncio.timeout(seconds):
            return await receive()
    except TimeoutError:
        raise SlowBody(pace.too_slow(received)) from None


def parse_json(body: bytes) -> object:
    try:
        return json.loads(body)
    except UnicodeDecodeError as exc:
        raise Malformed("body is not UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise Malformed(f"malformed JSON at line {exc.lineno} column {exc.colno}") from exc
    except ValueError as exc:  # an integer past Python's 4300-digit conversion limit
        raise Malformed("JSON holds a number too long to read") from exc
    except RecursionError as exc:
        raise Malformed("JSON nested too deeply") from exc
