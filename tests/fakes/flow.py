"""The conversation flow over an in-memory knowledge base of two pages, with recorded
backoff waits instead of sleeps."""

from __future__ import annotations

from typing import Any

from streams.flow.graph import FlowInput
from streams.flow.retrieval import InMemoryRetriever
from streams.flow.runner import Flow

KB = {
    "shipping.md": (
        "# Shipping and delivery\n\n"
        "## How long does delivery take?\n\n"
        "Delivery within the Netherlands takes 1-2 working days. Delivery to the rest of "
        "the European Union takes 3-5 working days.\n"
    ),
    "returns.md": (
        "# Returns and refunds\n\n"
        "## Can I return a lamp?\n\n"
        "You can return any lamp within 30 days of delivery, unused and in its box.\n"
    ),
}
DELIVERY_QUESTION = "How long does delivery take?"


class Sleeps:
    """Records backoff waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def make_flow(
    chat_model: Any = None,
    *,
    retriever: Any = None,
    timeout: float = 5.0,
    retries: int = 3,
    min_score: float = 0.05,
    sleeps: Sleeps | None = None,
) -> Flow:
    return Flow(
        retriever if retriever is not None else InMemoryRetriever.from_markdown(KB),
        chat_model,
        timeout_seconds=timeout,
        model_retries=retries,
        min_score=min_score,
        sleep=sleeps or Sleeps(),
    )


def message(text: str | None, **kwargs: Any) -> FlowInput:
    return FlowInput("evt-1", text, "whatsapp", **kwargs)
