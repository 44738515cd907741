"""The body limit in front of the compliance API: nothing over it is read, or handed on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ingest.body_limit import BodyLimitMiddleware

LIMIT = 1024


async def _echo(request: Request) -> JSONResponse:
    return JSONResponse({"received": len(await request.body())})


@pytest.fixture
def client() -> Iterator[TestClient]:
    routes = [Route(path, _echo, methods=["POST"]) for path in ("/gdpr/consent", "/webhooks/x")]
    app = Starlette(routes=routes)
    app.add_middleware(BodyLimitMiddleware, prefix="/gdpr", limit=LIMIT)
    with TestClient(app) as test_client:
        yield test_client


def _chunks(size: int) -> Iterator[bytes]:
    for _ in range(size // 100):
        yield b"x" * 100


def test_a_declared_length_over_the_limit_is_413(client: TestClient) -> None:
    """A body whose Content-Length is over the limit is refused before it is read."""
    response = client.post("/gdpr/consent", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.json() == {"detail": f"body exceeds {LIMIT} bytes"}


def test_a_chunked_body_over_the_limit_is_413(client: TestClient) -> None:
    """Without a Content-Length the body is read only until it passes the limit."""
    assert client.post("/gdpr/consent", content=_chunks(LIMIT * 4)).status_code == 413


@pytest.mark.parametrize("size", [0, 1, LIMIT])
def test_a_body_within_the_limit_reaches_the_app_whole(client: TestClient, size: int) -> None:
    """Up to the limit, declared or chunked, the app reads the same bytes."""
    assert client.post("/gdpr/consent", content=b"x" * size).json() == {"received": size}
    if size:
        assert client.post("/gdpr/consent", content=_chunks(size)).json() == {
            "received": size - size % 100
        }


def test_other_paths_are_not_limited(client: TestClient) -> None:
    """The webhooks keep their own, larger limit."""
    assert client.post("/webhooks/x", content=b"x" * LIMIT * 4).json() == {"received": LIMIT * 4}
