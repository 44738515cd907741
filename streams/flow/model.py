"""The chat model client, from Settings, and which of its failures are worth retrying.

Any model LangChain's ``init_chat_model`` knows works: ``openai:gpt-4o-mini``, or
``openai:<model>`` with ``SWITCHBOARD_LLM_BASE_URL`` pointing at an OpenAI-compatible server
(vLLM, Ollama, a llama.cpp server). The OpenAI client insists on a key even for servers
that ignore it; any value in ``SWITCHBOARD_LLM_API_KEY`` does. The client's own retries
are off: the flow retries, within its time budget.
"""

from __future__ import annotations

from typing import Any

import httpx
import openai
from langchain.chat_models import init_chat_model
from langchain_core.language_models import BaseChatModel

from switchboard.settings import Settings

# Timeouts, refused or dropped connections, rate limits (429) and server errors (5xx).
_TRANSIENT: tuple[type[BaseException], ...] = (
    openai.APITimeoutError,
    openai.APIConnectionError,
    openai.RateLimitError,
    openai.InternalServerError,
    httpx.TimeoutException,
    httpx.NetworkError,
    TimeoutError,
    ConnectionError,
)


def build_chat_model(settings: Settings) -> BaseChatModel | None:
    """The configured chat model, or ``None`` for the offline responder."""
    if not settings.switchboard_llm_model:
        return None
    options: dict[str, Any] = {
        "timeout": settings.switchboard_flow_timeout_seconds,
        "max_retries": 0,
    }
    if settings.switchboard_llm_base_url:
        options["base_url"] = settings.switchboard_llm_base_url
    api_key = settings.switchboard_llm_api_key
    if api_key is not None and api_key.get_secret_value():
        options["api_key"] = api_key.get_secret_value()
    model = init_chat_model(settings.switchboard_llm_model, **options)
    if not isinstance(model, BaseChatModel):
        raise TypeError(f"{settings.switchboard_llm_model!r} is not a chat model")
    return model


def is_transient(exc: BaseException) -> bool:
    """A failure that may pass on its own, judged by its class, never by its message."""
    return isinstance(exc, _TRANSIENT)
