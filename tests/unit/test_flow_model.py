"""The chat model built from Settings, and which of its failures the flow retries."""

from __future__ import annotations

import httpx
import httpx2
import openai
import pytest
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from streams.flow.model import build_chat_model, is_transient
from switchboard.settings import Settings

_REQUEST = httpx2.Request("POST", "http://model.test/v1/chat/completions")


def _status(cls: type[openai.APIStatusError], code: int) -> Exception:
    return cls("failed", response=httpx2.Response(code, request=_REQUEST), body=None)


def test_no_model_configured_means_the_offline_responder() -> None:
    """An empty model setting builds nothing."""
    assert build_chat_model(Settings(switchboard_llm_model="")) is None


def test_an_openai_compatible_server_is_reached_through_its_base_url() -> None:
    """Base URL, key and timeout come from Settings; the client's own retries are off."""
    settings = Settings(
        switchboard_llm_model="openai:llama3.2",
        switchboard_llm_base_url="http://127.0.0.1:11434/v1",
        switchboard_llm_api_key=SecretStr("local-key"),
        switchboard_flow_timeout_seconds=12,
    )
    model = build_chat_model(settings)
    assert isinstance(model, ChatOpenAI)
    assert model.model_name == "llama3.2"
    assert model.openai_api_base == "http://127.0.0.1:11434/v1"
    assert isinstance(model.openai_api_key, SecretStr)
    assert model.openai_api_key.get_secret_value() == "local-key"
    assert model.request_timeout == 12
    assert model.max_retries == 0


@pytest.mark.parametrize(
    "exc",
    [
        openai.APITimeoutError(request=_REQUEST),
        openai.APIConnectionError(request=_REQUEST),
        _status(openai.RateLimitError, 429),
        _status(openai.InternalServerError, 503),
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
        TimeoutError(),
        ConnectionResetError(),
    ],
)
def test_timeouts_connection_errors_rate_limits_and_server_errors_are_transient(
    exc: Exception,
) -> None:
    """Failures that may pass on their own are retried."""
    assert is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        _status(openai.AuthenticationError, 401),
        _status(openai.BadRequestError, 400),
        _status(openai.NotFoundError, 404),
        ValueError("timeout"),
        RuntimeError("connection refused"),
    ],
)
def test_other_failures_are_not_transient(exc: Exception) -> None:
    """Bad keys, bad requests and errors whose message merely sounds transient are not retried."""
    assert not is_transient(exc)
