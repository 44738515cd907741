"""The key ring: each contact's data key, made exactly once, and sealing/opening with it.

Reads come from memory (the data-keys topic, read whole and followed); only a miss costs a
catch-up to the topic's current end. ``key_for`` makes a missing key: the claim winner
(`datakeys/claims.py`) wraps it with the current master key, publishes it (acks=all)
and only then uses it; everyone else waits, bounded, for it to appear. A claim whose key
never appeared is taken over after ``takeover_after`` seconds.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

import structlog

from datakeys.claims import Claims
from datakeys.errors import KeyUnavailableError
from datakeys.log import KeyLog
from schemas.events import ConversationErased, Event, SealedPersonal
from schemas.sealing import (
    DataKey,
    MasterKeys,
    contact_of,
    needs_key,
    new_data_key,
    open_event,
    seal_event,
)

log = structlog.get_logger(__name__)

# Never skipped: a conversation's erasure carries out the contact's. An erasure request is
# skipped like any event once an erasure completed after it was made: it was carried out,
# and a replay or a new group running it again would re-publish the proof and shred the key
# (and state) of a contact who came back since.
_ALWAYS_READ = (ConversationErased,)


def default_owner() -> str:
    """Who a claim names: host, process and instance, so a restart is a new owner."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def is_erased(event: Event, erased_at: datetime | None) -> bool:
    """Whether a reader skips the event: its contact was forgotten at or after its time."""
    if erased_at is None or isinstance(event, _ALWAYS_READ):
        return False
    return event.time <= erased_at


class KeyRing:
    def __init__(
        self,
        log: KeyLog,
        claims: Claims,
        master: MasterKeys,
        *,
        owner: str | None = None,
        wait_seconds: float = 5.0,
        takeover_after: float = 30.0,
        poll_seconds: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.log = log
        self.claims = claims
        self.master = master
        self.owner = owner or default_owner()
        self.wait_seconds = wait_seconds
        self.takeover_after = takeover_after
        self.poll_seconds = poll_seconds
        self.clock = clock
        self.sleep = sleep
        # Keys this owner claimed but could not publish yet: retried with the same key.
        self._unpublished: dict[str, DataKey] = {}
        # One creation per contact per process; concurrent callers share it.
        self._creating: dict[str, asyncio.Task[DataKey]] = {}

    async def start(self) -> None:
        await self.log.start()

    async def stop(self) -> None:
        await self.log.stop()

    # --- keys -------------------------------------------------------------------------

    def cached_key(self, contact_id: str) -> DataKey | None:
        wrapped = self.log.wrapped(contact_id)
        return None if wrapped is None else self.master.unwrap(contact_id, wrapped)

    async def key_of(self, contact_id: str) -> DataKey | None:
        """The contact's key; on a miss, read the topic up to its current end and look again."""
        key = self.cached_key(contact_id)
        if key is None:
            await self.log.catch_up()
            key = self.cached_key(contact_id)
        return key

    async def key_sealed_with(self, contact_id: str, key_id: str) -> DataKey | None:
        """The key a value was sealed with, if it is still the contact's key. A cached key
        with another id may be stale (the contact was forgotten and came back with a new
        key), so a mismatch, like a miss, reads the topic to its end before giving up."""
        key = self.cached_key(contact_id)
        if key is None or key.key_id != key_id:
            await self.log.catch_up()
            key = self.cached_key(contact_id)
        return key if key is not None and key.key_id == key_id else None

    async def key_for(self, contact_id: str) -> DataKey:
        """The contact's key, made (by exactly one owner) if it has none."""
        key = self.cached_key(contact_id)
        if key is not None:
            return key
        task = self._creating.get(contact_id)
        if task is None:
            task = asyncio.ensure_future(self._get_or_create(contact_id))
            self._creating[contact_id] = task
            task.add_done_callback(lambda _: self._creating.pop(contact_id, None))
        return await asyncio.shield(task)

    async def _get_or_create(self, contact_id: str) -> DataKey:
        key = await self.key_of(contact_id)
        if key is not None:
            return key
        fresh = self._unpublished.get(contact_id) or new_data_key()
        if await self.claims.claim(contact_id, fresh.key_id, self.owner):
            return await self._publish(contact_id, fresh)
        deadline = self.clock() + self.wait_seconds
        while True:
            claim = await self.claims.current(contact_id)
            if claim is None:  # released (erased) meanwhile: claim afresh
                if await self.claims.claim(contact_id, fresh.key_id, self.owner):
                    return await self._publish(contact_id, fresh)
            elif claim.key_id == fresh.key_id:  # ours, from an attempt that did not publish
                return await self._publish(contact_id, fresh)
            elif claim.age_seconds >= self.takeover_after and await self.claims.take_over(
                contact_id, claim.key_id, fresh.key_id, self.owner, self.takeover_after
            ):
                log.warning("data_key_claim_taken_over", contact_id=contact_id)
                return await self._publish(contact_id, fresh)
            if self.clock() >= deadline:
                raise KeyUnavailableError(
                    "the owner of this contact's new key has not published it"
                )
            await self.sleep(self.poll_seconds)
            key = await self.key_of(contact_id)
            if key is not None:
                return key

    async def _publish(self, contact_id: str, key: DataKey) -> DataKey:
        self._unpublished[contact_id] = key
        await self.log.publish(contact_id, self.master.wrap(contact_id, key))
        self._unpublished.pop(contact_id, None)
        log.info("data_key_created", contact_id=contact_id, key_id=key.key_id)
        return key

    async def forget(self, contact_id: str) -> None:
        """Shred the contact's key (tombstone on data-keys.v1), then release its claim."""
        await self.log.tombstone(contact_id)
        await self.claims.release(contact_id)
        self._unpublished.pop(contact_id, None)

    async def rewrap(self, contact_id: str) -> bool:
        """Re-publish the contact's key wrapped by the current master key, if an older one
        wrapped it (after a rotation); True if it did."""
        wrapped = self.log.wrapped(contact_id)
        if wrapped is None or not self.master.needs_rewrap(wrapped):
            return False
        await self.log.publish(contact_id, self.master.rewrap(contact_id, wrapped))
        return True

    # --- erasures ---------------------------------------------------------------------

    def erased_at(self, contact_id: str) -> datetime | None:
        erasure = self.log.erasure(contact_id)
        return None if erasure is None else erasure.erased_at

    # --- events -----------------------------------------------------------------------

    async def seal(self, event: Event) -> Event:
        """The event as it may go on the log: personal data sealed with its contact's key."""
        if not needs_key(event):
            return event
        contact_id = contact_of(event)
        if contact_id is None:
            raise TypeError(f"{event.type} carries personal data but no contact id")
        return seal_event(event, await self.key_for(contact_id))

    async def open(self, event: Event) -> Event | None:
        """The event with its personal data in plaintext (redacted if the key is gone), or
        None when its contact was forgotten at or after its time: skip it.

        Raises SealError for a sealed value that was tampered with, KeyUnavailableError when
        the key could not be looked up (retry: redacting then would be wrong)."""
        contact_id = contact_of(event)
        if contact_id is None:
            return event
        await self.log.ready()
        if is_erased(event, self.erased_at(contact_id)):
            return None
        personal = getattr(event.data, "personal", None)
        if not isinstance(personal, SealedPersonal):
            return event
        return open_event(event, await self.key_sealed_with(contact_id, personal.sealed.key_id))
