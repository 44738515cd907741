"""The key ring's decisions over in-memory ports: one key per contact, waits, takeovers,
erasures and redaction."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from datakeys.claims import InMemoryClaims
from datakeys.errors import KeyUnavailableError
from datakeys.keyring import KeyRing
from datakeys.log import InMemoryKeyLog
from schemas.events import (
    ConversationErased,
    ConversationErasedData,
    ErasureRequested,
    ErasureRequestedData,
    Event,
    MessageReceived,
    Personal,
    SealedPersonal,
    plain,
)
from schemas.sealing import MasterKeys, SealError
from streams.conversation.state import ConversationState
from streams.conversation.stored import SealedStates
from tests.fakes.conversation_events import chatwoot_message

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
MASTER = MasterKeys([b"unit master"])


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def _ring(
    log: InMemoryKeyLog, claims: InMemoryClaims, owner: str, clock: Clock | None = None
) -> KeyRing:
    clock = clock or Clock()
    return KeyRing(
        log,
        claims,
        MASTER,
        owner=owner,
        wait_seconds=5,
        takeover_after=30,
        clock=clock,
        sleep=clock.sleep,
    )


def _message(contact_id: str = "ct_1", text: str = "hello", at: datetime = NOW) -> MessageReceived:
    personal = Personal(text=text, phone="15550001111")
    return chatwoot_message(
        personal, contact_id=contact_id, event_id=f"cw:{text}", at=at, correlation_id="r"
    )


def _personal(event: Event | None) -> Personal:
    assert isinstance(event, MessageReceived)
    return plain(event.data.personal)


async def test_concurrent_callers_in_two_processes_get_one_key() -> None:
    """Many callers on two rings racing for a new contact: one key, published once."""
    log, claims = InMemoryKeyLog(), InMemoryClaims()
    a, b = _ring(log, claims, "a"), _ring(log, claims, "b")
    keys = await asyncio.gather(*(ring.key_for("ct_1") for ring in (a, b, a, b, a)))
    assert len({key.key_id for key in keys}) == 1
    assert len({key.secret for key in keys}) == 1
    assert [contact for contact, _ in log.published] == ["ct_1"]
    assert claims.rows["ct_1"][0] == keys[0].key_id


async def test_a_loser_waits_for_the_winners_key() -> None:
    """A claim held by another owner makes the caller wait until its key appears."""
    log, claims = InMemoryKeyLog(), InMemoryClaims()
    winner, loser = _ring(log, claims, "w"), _ring(log, claims, "l")
    key = await winner.key_for("ct_1")
    log.keys.clear()  # as if the loser had not read it yet
    await claims.claim("ct_1", key.key_id, "w")  # (already there: no change)

    async def publish_later() -> None:
        await asyncio.sleep(0)
        await log.publish("ct_1", MASTER.wrap("ct_1", key))

    got, _ = await asyncio.gather(loser.key_for("ct_1"), publish_later())
    assert got.key_id == key.key_id


async def test_a_loser_gives_up_after_the_wait_and_takes_over_a_stale_claim() -> None:
    """A claim whose key never appears: KeyUnavailableError until it is old, then taken over."""
    log, claims, clock = InMemoryKeyLog(), InMemoryClaims(), Clock()
    claims.clock = clock
    await claims.claim("ct_1", "dk_crashed", "crashed-owner")
    ring = _ring(log, claims, "next", clock)
    with pytest.raises(KeyUnavailableError):
        await ring.key_for("ct_1")
    clock.now += 30
    key = await ring.key_for("ct_1")
    assert key.key_id != "dk_crashed"
    assert claims.rows["ct_1"][:2] == (key.key_id, "next")
    assert log.wrapped("ct_1") is not None


async def test_an_owner_whose_publish_failed_retries_with_the_same_key() -> None:
    """Kafka away after the claim: 503-style failure, then the same key is published."""
    log, claims = InMemoryKeyLog(), InMemoryClaims()
    ring = _ring(log, claims, "a")
    log.writable = False
    with pytest.raises(KeyUnavailableError):
        await ring.key_for("ct_1")
    claimed = claims.rows["ct_1"][0]
    log.writable = True
    assert (await ring.key_for("ct_1")).key_id == claimed


async def test_seal_and_open_round_trip_and_redact_after_forget() -> None:
    """Sealed events open with the ring; after forget() a fresh reader gets redacted data."""
    log, claims = InMemoryKeyLog(), InMemoryClaims()
    ring = _ring(log, claims, "a")
    sealed = await ring.seal(_message())
    assert isinstance(sealed, MessageReceived)
    assert isinstance(sealed.data.personal, SealedPersonal)
    assert _personal(await ring.open(sealed)).text == "hello"
    await ring.forget("ct_1")
    assert "ct_1" not in claims.rows
    assert log.published[-1] == ("ct_1", None)
    fresh = _ring(log, claims, "b")
    assert _personal(await fresh.open(sealed)) == Personal(redacted=True)


async def test_events_of_forgotten_contacts_are_skipped_up_to_the_erasure() -> None:
    """Erased at T: events at or before T are skipped, erasure requests among them; later
    ones and conversation erasures are read."""
    log, claims = InMemoryKeyLog(), InMemoryClaims()
    ring = _ring(log, claims, "a")
    before = await ring.seal(_message(at=NOW))
    log.erase("ct_1", NOW)
    after = await ring.seal(_message(text="back again", at=NOW + timedelta(seconds=1)))
    assert ring.erased_at("ct_1") == NOW
    assert await ring.open(before) is None
    assert _personal(await ring.open(after)).text == "back again"
    erased = ConversationErased(
        id="erased:1",
        source="switchboard",
        time=NOW,
        subject="cv_1",
        correlation_id="r",
        data=ConversationErasedData(contact_id="ct_1", deletion_id="del_1"),
    )
    assert await ring.open(erased) is erased
    request = ErasureRequested(
        id="erasure:del_1",
        source="switchboard",
        time=NOW - timedelta(seconds=2),
        subject="ct_1",
        correlation_id="del_1",
        data=ErasureRequestedData(
            contact_id="ct_1", deletion_id="del_1", reason="customer_request", requested_by="t"
        ),
    )
    # Carried out already: a replay must not run it again (shredding a returned contact's key).
    assert await ring.open(request) is None
    later = request.model_copy(update={"time": NOW + timedelta(seconds=2)})
    assert await ring.open(later) is later


async def test_a_reader_that_cannot_look_keys_up_raises_instead_of_redacting() -> None:
    """Kafka away: opening raises KeyUnavailableError (retry), never a wrong redaction."""
    log, claims = InMemoryKeyLog(), InMemoryClaims()
    sealed = await _ring(log, claims, "a").seal(_message())
    log.available = False
    with pytest.raises(KeyUnavailableError):
        await _ring(log, claims, "b").open(sealed)


async def test_a_tampered_event_raises_seal_error() -> None:
    """An altered sealed value raises SealError (readers dead-letter it); one moved to another
    contact opens to nothing."""
    log, claims = InMemoryKeyLog(), InMemoryClaims()
    ring = _ring(log, claims, "a")
    sealed = await ring.seal(_message())
    assert isinstance(sealed, MessageReceived)
    other = await ring.seal(_message(text="other"))
    assert isinstance(other, MessageReceived)
    swapped = sealed.model_copy(
        update={"data": sealed.data.model_copy(update={"personal": other.data.personal})}
    )
    assert _personal(await ring.open(swapped)).text == "other"  # same contact: it opens
    moved = sealed.model_copy(
        update={"data": sealed.data.model_copy(update={"contact_id": "ct_2"})}
    )
    await ring.key_for("ct_2")
    assert _personal(await ring.open(moved)) == Personal(redacted=True)  # not ct_2's key
    box = sealed.data.personal
    assert isinstance(box, SealedPersonal)
    flipped = "A" if box.sealed.ciphertext[0] != "A" else "B"
    altered = box.model_copy(
        update={
            "sealed": box.sealed.model_copy(
                update={"ciphertext": flipped + box.sealed.ciphertext[1:]}
            )
        }
    )
    tampered = sealed.model_copy(
        update={"data": sealed.data.model_copy(update={"personal": altered})}
    )
    with pytest.raises(SealError):
        await ring.open(tampered)


async def test_rewrap_moves_a_key_to_the_current_master() -> None:
    """After a master key rotation, rewrap republishes the same key under the new master."""
    log, claims = InMemoryKeyLog(), InMemoryClaims()
    key = await _ring(log, claims, "a").key_for("ct_1")
    rotated = KeyRing(log, claims, MasterKeys([b"new master", b"unit master"]), owner="b")
    assert (await rotated.key_of("ct_1")) == key
    assert await rotated.rewrap("ct_1")
    assert not await rotated.rewrap("ct_1")
    assert KeyRing(log, claims, MasterKeys([b"new master"])).cached_key("ct_1") == key


async def test_conversation_turns_are_stored_sealed_and_lost_with_the_key() -> None:
    """The state table holds the turns sealed; after forget() they load as none."""
    log, claims = InMemoryKeyLog(), InMemoryClaims()
    ring = _ring(log, claims, "a")
    states = SealedStates(ring)
    state = ConversationState(contact_id="ct_1").with_turn("customer", "marker-turn")
    stored = await states.dump(state)
    assert "marker-turn" not in json.dumps(stored)
    assert "turns" not in stored
    assert await states.load(stored) == state
    await ring.forget("ct_1")
    forgotten = await SealedStates(_ring(log, claims, "b")).load(stored)
    assert forgotten.turns == ()
    assert forgotten.contact_id == "ct_1"


async def test_a_stale_cached_key_is_refreshed_before_redacting() -> None:
    """A reader holding a contact's old key reads the topic again when a value names a newer
    key (the contact came back after being forgotten), and opens it."""
    log, claims = InMemoryKeyLog(), InMemoryClaims()
    reader = _ring(log, claims, "reader")
    old = await reader.key_for("ct_1")
    stale = log.keys["ct_1"]
    await reader.forget("ct_1")
    writer = _ring(log, claims, "writer")
    sealed = await writer.seal(_message(text="new era"))
    current = log.keys["ct_1"]
    log.keys["ct_1"] = stale  # the reader has not read the tombstone and new key yet

    async def catch_up() -> None:
        log.keys["ct_1"] = current

    log.catch_up = catch_up  # type: ignore[method-assign]
    assert reader.cached_key("ct_1") == old
    assert _personal(await reader.open(sealed)).text == "new era"
