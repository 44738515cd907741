"""A configured chat model, reached over the OpenAI API at a local server that can fail:
its answer goes out grounded; its errors and silences hand the conversation to a human."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ingest.app import build_ingest, create_app
from switchboard.settings import Settings
from tests.integration.conftest import Worker, isolated, settings_env
from tests.integration.test_conversation import Requests, _wait_for, customer_says

pytestmark = pytest.mark.integration

ANSWER = "Delivery takes 1-2 working days in the Benelux."


@dataclass
class ModelServer:
    """The chat-completions endpoint of an OpenAI-compatible server, with a failure switch."""

    mode: str = "answer"  # answer | error | hang
    calls: list[dict[str, Any]] = field(default_factory=list)

    async def completions(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.calls.append(body)
        if self.mode == "error":
            error = {"message": "overloaded", "type": "server_error", "code": None}
            return JSONResponse({"error": error}, status_code=500)
        if self.mode == "hang":
            await asyncio.sleep(30)
        return JSONResponse(
            {
                "id": f"chatcmpl-{uuid.uuid4().hex}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "test-model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": ANSWER},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
            }
        )


@pytest.fixture(scope="module")
def model_server() -> Iterator[tuple[ModelServer, str]]:
    server = ModelServer()
    app = Starlette(routes=[Route("/v1/chat/completions", server.completions, methods=["POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    runner = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=runner.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not runner.started:
        time.sleep(0.05)
    yield server, f"http://127.0.0.1:{port}/v1"
    runner.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
async def model_settings(settings: Settings, model_server: tuple[ModelServer, str]) -> Settings:
    return await isolated(settings, "model")


@pytest.fixture(scope="module")
def model_worker(
    model_settings: Settings,
    model_server: tuple[ModelServer, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Worker]:
    tmp = tmp_path_factory.mktemp("model-worker")
    env = settings_env(model_settings, Path(tmp))
    env.update(
        {
            "SWITCHBOARD_LLM_MODEL": "openai:test-model",
            "SWITCHBOARD_LLM_BASE_URL": model_server[1],
            "SWITCHBOARD_LLM_API_KEY": "local-test-key",
            "SWITCHBOARD_FLOW_TIMEOUT_SECONDS": "4",
            "SWITCHBOARD_MODEL_RETRIES": "1",
        }
    )
    worker = Worker(env, Path(tmp) / "worker.log")
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def model_client(model_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(build_ingest(model_settings))) as client:
        yield client


async def _outcome(
    client: TestClient, requests: Requests, worker: Worker, expected: int
) -> list[dict[str, Any]]:
    conversation = uuid.uuid4().int % 1_000_000_000
    customer_says(client, conversation, "How long does delivery take?")
    received = await _wait_for(requests, conversation, expected, timeout=60)
    assert len(received) == expected, worker.log()
    return received


async def test_the_models_answer_is_sent(
    model_client: TestClient,
    model_worker: Worker,
    model_server: tuple[ModelServer, str],
    standin_requests: Requests,
) -> None:
    """With a model configured, its grounded answer is the reply; the passages are in its prompt."""
    server, _ = model_server
    server.mode = "answer"
    received = await _outcome(model_client, standin_requests, model_worker, 1)
    assert [r["json"]["content"] for r in received] == [ANSWER]
    system = server.calls[-1]["messages"][0]["content"]
    assert "Shipping and delivery" in system


@pytest.mark.parametrize("mode", ["error", "hang"])
async def test_a_failing_model_hands_off(
    mode: str,
    model_client: TestClient,
    model_worker: Worker,
    model_server: tuple[ModelServer, str],
    standin_requests: Requests,
) -> None:
    """A model that errors (after its retries) or exceeds the budget hands the conversation off."""
    server, _ = model_server
    server.mode = mode
    received = await _outcome(model_client, standin_requests, model_worker, 3)
    assert [r["path"].rsplit("/", 1)[-1] for r in received] == [
        "messages",
        "messages",
        "toggle_status",
    ]
    notice, note, _ = received
    assert notice["json"]["content"] != ANSWER
    assert note["json"]["private"] is True
