"""The check once the stream has stopped: every message sent has exactly one action on the
actions topic and one reply at the Chatwoot stand-in."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import aiohttp

from bench.harness.errors import BenchError
from bench.harness.waiting import until
from bench.harness.watch import Replies
from bench.harness.worker import DRAIN_SECONDS
from bench.recovery.rig import POLL, Rig


@dataclass(frozen=True)
class Counts:
    sent: int
    missing: int  # messages without an action
    repeated: int  # action records for a message already answered
    replies: int  # replies the Chatwoot stand-in received for the stream's conversations
    unreplied: int  # conversations without one
    twice: int  # replies beyond one a message

    @property
    def once(self) -> bool:
        """Every message answered, none twice."""
        return self.missing == 0 and self.unreplied == 0 and self.twice == 0


async def exactly_once(rig: Rig, chatwoot: str) -> Counts:
    """Once the stream has stopped: every message's action, and its reply at the stand-in."""
    sent = list(rig.stream.sent)
    expected = rig.stream.conversations
    check = rig.workers.check
    with contextlib.suppress(BenchError):  # counted below
        await until(lambda: rig.watch.has(sent), DRAIN_SECONDS, "the last actions", check, POLL)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        replies = Replies(session, chatwoot)
        deadline = time.perf_counter() + DRAIN_SECONDS
        while replies.total(expected) < expected.total() and time.perf_counter() < deadline:
            await asyncio.sleep(1.0)
            await replies.poll()
        await asyncio.sleep(2.0)  # an action or reply sent twice would arrive about now
        await replies.poll()
    return Counts(
        sent=len(sent),
        missing=sum(1 for i in sent if i not in rig.watch.arrived),
        repeated=rig.watch.repeated,
        replies=replies.total(expected),
        unreplied=sum(1 for c in expected if replies.counts[c] == 0),
        twice=sum(max(0, replies.counts[c] - n) for c, n in expected.items()),
    )
