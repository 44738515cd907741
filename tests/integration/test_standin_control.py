"""The stand-ins' control endpoints: what tests rely on to hold and release provider calls."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from switchboard.standins import StandInURLs, Tokens

CHAT = {"model": "test-model", "messages": [{"role": "user", "content": "hello"}]}


def test_a_reset_answers_the_calls_a_delay_holds(standins: StandInURLs) -> None:
    """A call held by a long delay is answered as soon as the stand-in is reset, not when the
    delay ends: a test can hold a provider for as long as it needs and then let it go."""
    model = standins.model
    httpx.post(f"{model}/_standin/reset").raise_for_status()
    httpx.post(f"{model}/_standin/faults", json={"delay_seconds": 600}).raise_for_status()
    headers = {"Authorization": f"Bearer {Tokens().model}"}

    def call() -> httpx.Response:
        return httpx.post(f"{model}/v1/chat/completions", json=CHAT, headers=headers, timeout=60)

    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(call)
        deadline = time.monotonic() + 10
        while not httpx.get(f"{model}/_standin/requests").json()["requests"]:
            assert time.monotonic() < deadline, "the call never reached the stand-in"
            time.sleep(0.05)
        time.sleep(0.3)
        assert not answer.done(), "the delay should hold the call"
        released = time.monotonic()
        httpx.post(f"{model}/_standin/reset").raise_for_status()
        response = answer.result(timeout=10)
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"]
    assert time.monotonic() - released < 5
