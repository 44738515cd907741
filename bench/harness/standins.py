"""The stand-ins in a process of their own (`switchboard standins`), so that serving many
slow calls takes no time from the benchmark's own process, and their control endpoints."""

from __future__ import annotations

import asyncio
import time
from contextlib import ExitStack
from pathlib import Path

import aiohttp

from bench.harness.children import HOST, Child, free_port, spawn
from bench.harness.errors import BenchError
from bench.harness.kafka import Names
from bench.harness.worker import child_env, switchboard_command
from switchboard.settings import Settings
from switchboard.standins import StandInURLs

READY_SECONDS = 30.0


async def control(
    session: aiohttp.ClientSession, url: str, action: str, body: object = None
) -> object:
    """A stand-in's control endpoint: ``requests`` is read, the others (``reset``,
    ``faults``) are posted to."""
    if action == "requests":
        async with session.get(f"{url}/_standin/requests") as response:
            response.raise_for_status()
            return await response.json()
    async with session.post(f"{url}/_standin/{action}", json=body) as response:
        response.raise_for_status()
        return await response.json()


async def whatsapp_answered(session: aiohttp.ClientSession, graph: str) -> set[str]:
    """The phone numbers the Graph API stand-in accepted a send to."""
    record = await control(session, graph, "requests")
    assert isinstance(record, dict)
    return {
        r["json"]["to"]
        for r in record["requests"]
        if r["method"] == "POST" and r["status"] == 200 and isinstance(r["json"], dict)
    }


async def ready(urls: StandInURLs, child: Child) -> None:
    """Every stand-in answers its control endpoint, while the process stays alive."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        for url in (urls.chatwoot, urls.graph, urls.dialog360, urls.model):
            deadline = time.perf_counter() + READY_SECONDS
            while True:
                child.check()
                try:
                    await control(session, url, "requests")
                    break
                except aiohttp.ClientError:
                    if time.perf_counter() > deadline:
                        raise BenchError(f"stand-in {url} did not start") from None
                    await asyncio.sleep(0.2)


async def start_standins(
    settings: Settings, names: Names, logs: Path, stack: ExitStack
) -> StandInURLs:
    """`switchboard standins` on four free ports, a child stopped when `stack` closes; its
    URLs once every stand-in answers."""
    ports = [free_port() for _ in range(4)]
    urls = StandInURLs(*(f"http://{HOST}:{port}" for port in ports))
    argv = switchboard_command("standins", "--host", HOST, "--ports", *map(str, ports))
    child = spawn("standins", argv, child_env(settings, names, urls, logs), logs, stack)
    await ready(urls, child)
    return urls
