"""A stand-in of Sentry's envelope endpoint, for the tests that check what reaches Sentry,
and how they leave Sentry for the tests after them."""

from __future__ import annotations

import gzip
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import sentry_sdk


class Receiver(ThreadingHTTPServer):
    """Sentry's envelope endpoint, `POST /api/<project>/envelope/`, keeping what arrives."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.envelopes: list[tuple[str, bytes]] = []


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.server.envelopes.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        return None


def envelope_items(envelope: bytes) -> list[dict[str, Any]]:
    """The JSON payloads of an envelope: header line, then item header + payload pairs."""
    return [json.loads(line) for line in envelope.split(b"\n")[2::2] if line.strip()]


def sentry_off() -> None:
    """No DSN, and no integrations. Sentry's Starlette integration, left enabled with its
    default request-body capture, would read webhook bodies before ingest does: later tests'
    webhooks would wait for a body already taken (408)."""
    sentry_sdk.get_client().close()
    sentry_sdk.init(default_integrations=False, auto_enabling_integrations=False)
    sentry_sdk.get_global_scope().clear()
