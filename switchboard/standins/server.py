"""Run the stand-ins: in a background thread for tests and the demo, or in the foreground.

Each stand-in is its own uvicorn server on its own port, as the real services are separate
hosts. Sockets are bound before the servers start, so a port that is taken fails at once,
in the caller's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette

from switchboard.settings import Settings
from switchboard.standins.chatwoot import chatwoot_app
from switchboard.standins.model import model_app
from switchboard.standins.whatsapp import dialog360_app, graph_app

GRAPH_VERSION = "v23.0"
_START_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Tokens:
    """The credentials each stand-in accepts; the defaults are Settings' development values."""

    chatwoot: str = "dev-chatwoot-agent-bot-token"
    whatsapp: str = "dev-whatsapp-access-token"
    dialog360: str = "dev-360dialog-api-key"
    # A Chatwoot user token: when set, only it may list messages, as in Chatwoot.
    chatwoot_admin: str | None = None
    model: str = "dev-model-api-key"

    @classmethod
    def from_settings(cls, settings: Settings) -> Tokens:
        admin, model_key = settings.chatwoot_admin_token, settings.switchboard_llm_api_key
        return cls(
            chatwoot=settings.chatwoot_api_token.get_secret_value(),
            whatsapp=settings.whatsapp_access_token.get_secret_value(),
            dialog360=settings.dialog360_api_key.get_secret_value(),
            chatwoot_admin=admin.get_secret_value() if admin is not None else None,
            model=model_key.get_secret_value() if model_key is not None else Tokens.model,
        )


@dataclass(frozen=True)
class Ports:
    """0 means any free port."""

    chatwoot: int = 0
    graph: int = 0
    dialog360: int = 0
    model: int = 0


@dataclass(frozen=True)
class StandInURLs:
    chatwoot: str
    graph: str
    dialog360: str
    model: str

    @property
    def whatsapp_api_base_url(self) -> str:
        """The Graph base URL with its version, as ``WHATSAPP_API_BASE_URL`` takes it."""
        return f"{self.graph}/{GRAPH_VERSION}"

    @property
    def model_base_url(self) -> str:
        """The OpenAI-style base URL, as ``SWITCHBOARD_LLM_BASE_URL`` takes it."""
        return f"{self.model}/v1"

    def settings(self) -> dict[str, str]:
        """Settings fields that point Switchboard at these stand-ins (not the model: an
        empty model setting means the offline responder, which most runs want)."""
        return {
            "chatwoot_base_url": self.chatwoot,
            "whatsapp_api_base_url": self.whatsapp_api_base_url,
            "dialog360_api_base_url": self.dialog360,
        }


def build_apps(tokens: Tokens) -> dict[str, Starlette]:
    return {
        "chatwoot": chatwoot_app(tokens.chatwoot, tokens.chatwoot_admin),
        "graph": graph_app(tokens.whatsapp),
        "dialog360": dialog360_app(tokens.dialog360),
        "model": model_app(tokens.model),
    }


@contextlib.contextmanager
def run_standins(
    host: str = "127.0.0.1", *, ports: Ports | None = None, tokens: Tokens | None = None
) -> Iterator[StandInURLs]:
    """Serve the three stand-ins in a background thread until the block ends."""
    ports = ports or Ports()
    apps = build_apps(tokens or Tokens())
    sockets = {name: _bind(host, getattr(ports, name)) for name in apps}
    servers = [
        uvicorn.Server(
            uvicorn.Config(
                app,
                log_config=None,
                log_level="warning",
                access_log=False,
                lifespan="off",
                ws="none",
            )
        )
        for app in apps.values()
    ]
    pairs = list(zip(servers, sockets.values(), strict=True))
    thread = threading.Thread(target=_serve_all, args=(pairs,), name="standins", daemon=True)
    thread.start()
    try:
        _wait_started(servers, thread)
        urls = {name: _url(host, sock) for name, sock in sockets.items()}
        yield StandInURLs(**urls)
    finally:
        for server in servers:
            server.should_exit = True
        thread.join(timeout=_START_TIMEOUT_SECONDS)
        for sock in sockets.values():
            sock.close()


def serve(
    host: str = "127.0.0.1",
    ports: Ports | None = None,
    tokens: Tokens | None = None,
) -> None:
    """Serve the stand-ins in the foreground until SIGINT or SIGTERM."""
    with run_standins(host, ports=ports or Ports(3000, 3001, 3002, 3003), tokens=tokens) as urls:
        print(f"Chatwoot stand-in    {urls.chatwoot}")
        print(f"Graph API stand-in   {urls.whatsapp_api_base_url}")
        print(f"360dialog stand-in   {urls.dialog360}")
        print(f"Chat model stand-in  {urls.model_base_url}")
        print("Requests received: GET <url>/_standin/requests. Ctrl-C to stop.")
        previous = {s: signal.signal(s, signal.default_int_handler) for s in _STOP_SIGNALS}
        try:
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def _url(host: str, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _serve_all(pairs: list[tuple[uvicorn.Server, socket.socket]]) -> None:
    async def main() -> None:
        await asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in pairs))

    asyncio.run(main())


def _wait_started(servers: list[uvicorn.Server], thread: threading.Thread) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while not all(server.started for server in servers):
        if not thread.is_alive():
            raise RuntimeError("the stand-ins stopped during start-up")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the stand-ins did not start within {_START_TIMEOUT_SECONDS:.0f} s")
        time.sleep(0.01)
