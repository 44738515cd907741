"""A configured chat model, reached over the OpenAI API at the model stand-in, which can fail:
its answer goes out grounded; its errors and silences hand the conversation to a human."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from ingest.app import build_ingest, create_app
from switchboard.settings import Settings
from switchboard.standins import StandInURLs, Tokens
from switchboard.standins.model import ANSWER
from tests.integration.chatwoot_chat import Requests, customer_says, wait_for
from tests.integration.conftest import Worker, isolated, settings_env

pytestmark = pytest.mark.integration


def _fault(standins: StandInURLs, fault: object) -> None:
    httpx.post(f"{standins.model}/_standin/faults", json=fault).raise_for_status()


def _calls(standins: StandInURLs) -> list[dict[str, Any]]:
    requests = httpx.get(f"{standins.model}/_standin/requests").json()["requests"]
    return [r for r in requests if r["method"] == "POST"]


@pytest.fixture(scope="module")
async def model_settings(settings: Settings) -> Settings:
    return await isolated(settings, "model")


@pytest.fixture(scope="module")
def model_worker(
    model_settings: Settings,
    standins: StandInURLs,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Worker]:
    tmp = tmp_path_factory.mktemp("model-worker")
    env = settings_env(model_settings, Path(tmp))
    env.update(
        {
            "SWITCHBOARD_LLM_MODEL": "openai:test-model",
            "SWITCHBOARD_LLM_BASE_URL": standins.model_base_url,
            "SWITCHBOARD_LLM_API_KEY": Tokens().model,
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
    received = await wait_for(requests, conversation, expected, timeout=60)
    assert len(received) == expected, worker.log()
    return received


async def test_the_models_answer_is_sent(
    model_client: TestClient,
    model_worker: Worker,
    standins: StandInURLs,
    standin_requests: Requests,
) -> None:
    """With a model configured, its grounded answer is the reply; the passages are in its prompt."""
    received = await _outcome(model_client, standin_requests, model_worker, 1)
    assert [r["json"]["content"] for r in received] == [ANSWER]
    system = _calls(standins)[-1]["json"]["messages"][0]["content"]
    assert "Shipping and delivery" in system


@pytest.mark.parametrize(
    "fault",
    [{"status": 500, "times": 2}, {"delay_seconds": 30}],
    ids=["error", "hang"],
)
async def test_a_failing_model_hands_off(
    fault: dict[str, object],
    model_client: TestClient,
    model_worker: Worker,
    standins: StandInURLs,
    standin_requests: Requests,
) -> None:
    """A model that errors (after its retries) or exceeds the budget hands the conversation off."""
    _fault(standins, fault)
    received = await _outcome(model_client, standin_requests, model_worker, 3)
    assert [r["path"].rsplit("/", 1)[-1] for r in received] == [
        "messages",
        "messages",
        "toggle_status",
    ]
    notice, note, _ = received
    assert notice["json"]["content"] != ANSWER
    assert note["json"]["private"] is True
