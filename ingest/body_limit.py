"""A size and time limit on request bodies under a path prefix, as a plain ASGI middleware.

FastAPI reads and parses a body before it runs the dependencies that authenticate the
caller, so without a limit anyone could have ingest hold a body of any size in memory, or
for as long as they cared to send it. The webhooks bound their own reads (ingest/body.py);
this bounds the compliance API's: a declared length over the limit is refused before a byte
is read; otherwise the body is read up to the limit and within the pace of
ingest/admission.py (`app.state.body_pace`, as the webhooks are configured; the defaults
without), then handed on whole, or refused (413, 408). A client that hangs up is not
answered (the metrics count a 499).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest.admission import BodyPace
from ingest.body import receive_body
from ingest.errors import ClientDisconnected, Oversized, RequestRefused, SlowBody


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, prefix: str, limit: int) -> None:
        self.app = app
        self.prefix = prefix
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await _refuse(send, Oversized(f"body exceeds {self.limit} bytes"))
            return
        try:
            body = await receive_body(receive, self.limit, _pace(scope))
        except ClientDisconnected:
            return
        except (Oversized, SlowBody) as refused:
            await _refuse(send, refused)
            return
        await self.app(scope, _replay(body, receive), send)


def _pace(scope: Scope) -> BodyPace:
    app = scope.get("app")
    pace = getattr(getattr(app, "state", None), "body_pace", None)
    return pace if isinstance(pace, BodyPace) else BodyPace()


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, as one message; then whatever the client sends next."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


async def _refuse(send: Send, refused: RequestRefused) -> None:
    """The refusal, closing the connection: the rest of the body is never read."""
    content = json.dumps({"detail": refused.detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", b"%d" % len(content)),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": refused.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": content})
