"""A rate limit per client on every request under a path prefix, as a plain ASGI middleware.

It runs before anything else looks at the request: before the body is read, the key looked
up in PostgreSQL or anything audited, so a flood of requests (forged keys, forged download
links) costs the database nothing once its client is over the limit, and the webhooks of
new contacts, which share that database, keep their latency. The client is its address, as
the webhooks' limiter sees it (X-Forwarded-For only from trusted proxies).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from ingest.ratelimit import Network, RateLimiter, client_address, retry_after_header

OnRefused = Callable[[Scope], None]


class ClientRateLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        prefix: str,
        limiter: RateLimiter,
        trusted_proxies: Sequence[Network],
        on_refused: OnRefused,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.prefix = prefix
        self.limiter = limiter
        self.trusted_proxies = trusted_proxies
        self.on_refused = on_refused  # counts the refusal: metrics, audit_refusals
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _under(scope["path"], self.prefix):
            await self.app(scope, receive, send)
            return
        peer = scope["client"][0] if scope.get("client") else None
        forwarded = Headers(scope=scope).get("x-forwarded-for")
        client = client_address(peer, forwarded, self.trusted_proxies)
        wait = self.limiter.acquire(client, self.clock())
        if not wait:
            await self.app(scope, receive, send)
            return
        self.on_refused(scope)
        await _refuse(send, retry_after_header(wait))


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


async def _refuse(send: Send, retry_after: str) -> None:
    detail = f"too many requests; retry after {retry_after} seconds"
    content = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", b"%d" % len(content)),
        (b"retry-after", retry_after.encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": content})
