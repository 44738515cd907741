"""Reading a request body safely: bounded size, JSON only, no recursion bombs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping

from ingest.admission import Reservation
from ingest.errors import Malformed, Oversized, UnsupportedMediaType


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


async def read_limited(
    chunks: AsyncIterator[bytes], limit: int, reservation: Reservation | None = None
) -> bytes:
    """Stop reading as soon as a chunked body passes the limit; with a reservation, hold
    every byte read in it first (Busy when the budget is spent)."""
    body = bytearray()
    async for chunk in chunks:
        if len(body) + len(chunk) > limit:
            raise Oversized(f"body exceeds {limit} bytes")
        if reservation is not None:
            reservation.ensure(len(body) + len(chunk))
        body += chunk
    return bytes(body)


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
