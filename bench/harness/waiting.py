"""Waiting for a condition while the benchmark's children must stay alive."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import aiohttp

from bench.harness.errors import BenchError
from bench.harness.meter import own_cpu_seconds


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


async def idles(
    pid: int, seconds: float, check: Callable[[], None], *, share: float, interval: float = 0.5
) -> bool:
    """Whether process `pid` used less than `share` of a core over some `interval` within
    `seconds` (a worker's agents may trail a burst); meanwhile the children must stay alive."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        before = own_cpu_seconds(pid)
        await asyncio.sleep(interval)
        if (own_cpu_seconds(pid) - before) / interval < share:
            return True
        check()
    return False


async def until_queried(
    probe: Callable[[], Awaitable[bool]],
    seconds: float,
    what: str,
    check: Callable[[], None],
    interval: float = 0.2,
) -> None:
    """As `until`, for a condition that takes a query to know (a database, an HTTP call)."""
    deadline = time.perf_counter() + seconds
    while not await probe():
        check()
        if time.perf_counter() > deadline:
            raise BenchError(f"{what}: not done within {seconds:g} s")
        await asyncio.sleep(interval)


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
