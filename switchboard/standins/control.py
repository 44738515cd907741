"""What every stand-in shares: the record of requests received, injected faults, and the
``/_standin/*`` control endpoints that tests and the demo use.

Control endpoints (on each stand-in):

* ``GET  /_standin/requests``: ``{"requests": [...]}``, each ``{method, path, headers,
  json, status, fault}`` in arrival order; ``headers`` holds Content-Type and the
  provider's credential header; ``status`` is what the stand-in answered (null if the
  client hung up during a delay).
* ``POST /_standin/faults``: queue one fault or a list; each applies to the next ``times``
  provider requests, in order: ``{"status": 500, "times": 3}``,
  ``{"status": 429, "retry_after": 1}`` (seconds or an HTTP-date),
  ``{"delay_seconds": 12}`` (answer late, for client timeouts), optional ``"body"``, and
  ``"after": n`` to let n requests through untouched first.
* ``POST /_standin/reset``: forget requests and faults, and whatever the stand-in stored
  (Chatwoot's messages and contacts); requests held by a delay are answered now.

Every provider request is recorded, whatever its method: the Chatwoot stand-in's message
listing is a ``GET`` on the same path as message creation, so tell them apart by ``method``.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

RECORDED_HEADERS = ("content-type", "authorization", "api_access_token", "d360-api-key")

Handler = Callable[[Request, Any], Awaitable[Response]]
ErrorBody = Callable[[int], Any]


class FaultError(ValueError):
    pass


@dataclass
class Fault:
    status: int | None = None
    times: int = 1
    retry_after: str | None = None
    delay_seconds: float = 0.0
    body: Any = None
    after: int = 0

    @classmethod
    def parse(cls, raw: object) -> Fault:
        if not isinstance(raw, dict) or not raw.keys() <= {
            "status",
            "times",
            "retry_after",
            "delay_seconds",
            "body",
            "after",
        }:
            raise FaultError(
                "a fault is an object with status, times, retry_after, delay_seconds, body, after"
            )
        status, times, delay = raw.get("status"), raw.get("times", 1), raw.get("delay_seconds", 0)
        if status is not None and not (isinstance(status, int) and 100 <= status <= 599):
            raise FaultError("status must be an HTTP status code")
        if not isinstance(times, int) or times < 1:
            raise FaultError("times must be a positive integer")
        if not isinstance(delay, int | float) or delay < 0:
            raise FaultError("delay_seconds must be a non-negative number")
        if status is None and not delay:
            raise FaultError("a fault needs a status or a delay")
        after = raw.get("after", 0)
        if not isinstance(after, int) or after < 0:
            raise FaultError("after must be a non-negative integer")
        retry_after = raw.get("retry_after")
        return cls(
            status=status,
            times=times,
            retry_after=None if retry_after is None else str(retry_after),
            delay_seconds=float(delay),
            body=raw.get("body"),
            after=after,
        )


@dataclass
class StandInState:
    """One stand-in's memory. Only its server's event loop touches it."""

    error_body: ErrorBody
    requests: list[dict[str, Any]] = field(default_factory=list)
    faults: deque[Fault] = field(default_factory=deque)
    counter: int = 0
    # Counts resets: a request held by a delay is released by the next one.
    resets: int = 0
    # What else to forget on reset: a stand-in's own stored data.
    on_reset: list[Callable[[], None]] = field(default_factory=list)

    def next_id(self) -> int:
        self.counter += 1
        return self.counter

    def take_fault(self) -> Fault | None:
        if not self.faults:
            return None
        fault = self.faults[0]
        if fault.after:
            fault.after -= 1
            return None
        fault.times -= 1
        if fault.times == 0:
            self.faults.popleft()
        return fault

    def reset(self) -> None:
        self.resets += 1
        self.requests.clear()
        self.faults.clear()
        for forget in self.on_reset:
            forget()

    def endpoint(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a provider endpoint: record the request, apply the next fault, else answer."""

        async def run(request: Request) -> Response:
            raw = await request.body()
            try:
                payload = json.loads(raw) if raw else None
            except ValueError:
                payload = raw.decode(errors="replace")
            entry: dict[str, Any] = {
                "method": request.method,
                "path": request.url.path,
                "headers": {
                    k: request.headers[k] for k in RECORDED_HEADERS if k in request.headers
                },
                "json": payload,
                "status": None,
                "fault": None,
            }
            self.requests.append(entry)
            response = await self._answer(request, payload, entry, handler)
            entry["status"] = response.status_code if response is not None else None
            return response if response is not None else Response(status_code=499)

        return run

    async def _answer(
        self, request: Request, payload: Any, entry: dict[str, Any], handler: Handler
    ) -> Response | None:
        fault = self.take_fault()
        if fault is not None and fault.delay_seconds:
            entry["fault"] = "delay"
            resets = self.resets
            released = lambda: self.resets != resets  # noqa: E731 - read at each wait
            if await _client_left_during(request, fault.delay_seconds, released):
                return None
        if fault is not None and fault.status is not None:
            entry["fault"] = "status"
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
            body = fault.body if fault.body is not None else self.error_body(fault.status)
            return JSONResponse(body, status_code=fault.status, headers=headers)
        return await handler(request, payload)

    def routes(self) -> list[Route]:
        async def requests(_: Request) -> Response:
            return JSONResponse({"requests": self.requests})

        async def faults(request: Request) -> Response:
            try:
                raw = await request.json()
                items = raw if isinstance(raw, list) else [raw]
                self.faults.extend(Fault.parse(item) for item in items)
            except ValueError as exc:  # FaultError, and bad JSON
                return JSONResponse({"error": str(exc)}, status_code=422)
            return JSONResponse({"queued": sum(f.times for f in self.faults)})

        async def reset(_: Request) -> Response:
            self.reset()
            return JSONResponse({"reset": True})

        return [
            Route("/_standin/requests", requests, methods=["GET"]),
            Route("/_standin/faults", faults, methods=["POST"]),
            Route("/_standin/reset", reset, methods=["POST"]),
        ]


async def _client_left_during(
    request: Request, seconds: float, released: Callable[[], bool]
) -> bool:
    """Wait ``seconds``, or until a reset releases the request; True as soon as the client
    hangs up (a timed-out request)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline and not released():
        if await request.is_disconnected():
            return True
        await asyncio.sleep(min(0.05, max(deadline - loop.time(), 0)))
    return False
