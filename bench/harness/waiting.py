"""Waiting for a condition while the benchmark's children must stay alive."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import aiohttp

from bench.harness.errors import BenchError


async def within(
    done: Callable[[], bool], seconds: float, check: Callable[[], None], interval: float = 0.005
) -> bool:
    """Whether `done` came true within `seconds`; meanwhile the children must stay alive."""
    deadline = time.perf_counter() + seconds
    while not done():
        check()
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(interval)
    return True


async def until(
    done: Callable[[], bool],
    seconds: float,
    what: str,
    check: Callable[[], None],
    interval: float = 0.005,
) -> None:
    if not await within(done, seconds, check, interval):
        raise BenchError(f"{what}: not done within {seconds:g} s")


async def healthy(
    session: aiohttp.ClientSession,
    url: str,
    seconds: float,
    what: str,
    check: Callable[[], None],
) -> None:
    """Until `<url>/health` answers 200, within `seconds`; meanwhile `check` (the child
    serving it must stay alive)."""
    deadline = time.perf_counter() + seconds
    while True:
        check()
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(f"{url}/health") as response:
                if response.status == 200:
                    return
        if time.perf_counter() > deadline:
            raise BenchError(f"{what} not healthy within {seconds:g} s")
        await asyncio.sleep(0.1)
