"""End to end: signed Chatwoot `message_created` webhooks to `switchboard ingest` at a steady
rate, open loop, each in its own conversation, timed from the moment each POST is due to the
reply reaching the Chatwoot stand-in."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp

from bench.flow.messages import Signed, signed_webhooks
from bench.flow.rig import Rig
from bench.harness.errors import BenchError
from bench.harness.meter import settle
from bench.harness.waiting import within
from bench.harness.watch import Replies
from bench.harness.worker import START_SECONDS

WEBHOOK = "/webhooks/chatwoot"
POLL_SECONDS = 0.02  # how often the Chatwoot stand-in's record is read while timing


@dataclass
class EndToEnd:
    rate: int
    due: dict[int, float] = field(default_factory=dict)  # conversation -> POST due
    answered: dict[int, float] = field(default_factory=dict)  # ingest's 200 "accepted"
    replied: dict[int, float] = field(default_factory=dict)  # reply seen at the stand-in
    replies: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    lag: list[float] = field(default_factory=list)  # dispatch behind schedule
    polls: list[float] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)

    def latencies(self, until: dict[int, float]) -> list[float]:
        return [until[c] - due for c, due in self.due.items() if c in until]


async def post(session: aiohttp.ClientSession, url: str, item: Signed, run: EndToEnd) -> None:
    conversation, body, headers = item
    try:
        async with session.post(url, data=body, headers=headers) as response:
            answer = await response.text()
    except (aiohttp.ClientError, TimeoutError) as exc:
        run.errors[type(exc).__name__] += 1
        return
    if response.status != 200:
        run.errors[f"HTTP {response.status}"] += 1
    elif '"accepted"' not in answer:
        run.errors["not accepted"] += 1
    else:
        run.answered[conversation] = time.perf_counter()


async def open_loop(
    session: aiohttp.ClientSession, url: str, signed: Sequence[Signed], run: EndToEnd
) -> None:
    """A POST every 1/rate seconds whatever the answers; each timed from when it was due."""
    start = time.perf_counter() + 0.01
    tasks: list[asyncio.Task[None]] = []
    for index, item in enumerate(signed):
        due = start + index / run.rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        run.lag.append(time.perf_counter() - due)
        run.due[item[0]] = due
        tasks.append(asyncio.create_task(post(session, url, item, run)))
    await asyncio.gather(*tasks)


async def warm_up(rig: Rig, session: aiohttp.ClientSession, url: str) -> None:
    """One webhook through ingest and on to its reply, before anything is timed."""
    warm = EndToEnd(rig.plan.rate)
    await post(session, url, signed_webhooks(rig.customers, 1)[0], warm)
    if warm.errors:
        raise BenchError(f"ingest refused the warm-up webhook: {dict(warm.errors)}")
    await rig.replies.delivered(Counter(warm.answered.keys()), START_SECONDS, rig.children.check)


async def tally(run: EndToEnd, replies: Replies) -> None:
    """The replies to this run's webhooks, read once more after a second, when a reply
    sent twice would have arrived."""
    await asyncio.sleep(1.0)
    await replies.poll()
    run.replied = {c: replies.arrived[c] for c in run.due if c in replies.arrived}
    run.replies = Counter({c: replies.counts[c] for c in run.due})
    run.polls = list(replies.polls)


async def end_to_end(rig: Rig, session: aiohttp.ClientSession) -> EndToEnd:
    url, replies = rig.children.ingest_url + WEBHOOK, rig.replies
    await replies.reset()  # the burst's replies: reading them back would cost every poll
    await warm_up(rig, session, url)
    signed = signed_webhooks(rig.customers, round(rig.plan.rate * rig.plan.seconds))
    settle()
    run = EndToEnd(rig.plan.rate)
    replies.polls.clear()
    follower = asyncio.create_task(replies.follow(POLL_SECONDS))

    async def timed() -> None:
        await open_loop(session, url, signed, run)
        await within(lambda: replies.arrived.keys() >= run.due.keys(), 30, rig.children.check)

    try:
        _, run.cpu = await rig.meter.around(timed())
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
    await tally(run, replies)
    return run
