"""Erasure reaches every copy: PostgreSQL rows, the consent and conversation-state tables,
the data key, export files and the contact in Chatwoot, leaving only the proof. Real
processes: ingest in-process, a worker of this module's own (with a Chatwoot admin token
and an export folder), Kafka, PostgreSQL and a Chatwoot stand-in of its own."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from switchboard.settings import Settings
from tests.integration.chatwoot_chat import ACCOUNT, customer_says, ids
from tests.integration.conftest import eventually
from tests.integration.erasure_pipeline import (
    Setup,
    chatwoot_requests,
    erasure_pipeline,
    fetch,
    seed_chatwoot,
)
from tests.integration.privacy_helpers import (
    consent_event,
    contact_id,
    conversation_key,
    erasure_event,
    latest,
    produce,
    read_topic,
)

pytestmark = pytest.mark.integration

ADMIN_TOKEN = "integration-chatwoot-admin-token"
TARGETS = {"data-key", "consent", "conversation-state", "exports", "chatwoot", "postgres"}


@pytest.fixture(scope="module")
async def setup(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Setup]:
    tmp = tmp_path_factory.mktemp("erasure")
    async with erasure_pipeline(settings, tmp, "erasure", ADMIN_TOKEN, []) as pipeline:
        yield pipeline


def _seed_chatwoot(setup: Setup, chatwoot_contact: int, name: str, phone: str) -> None:
    email = f"{name.split(maxsplit=1)[0].lower()}@example.org"
    seed_chatwoot(
        setup.chatwoot, chatwoot_contact, name, email, phone, loyalty_tier="gold", favourite=name
    )


async def _fetch(setup: Setup, query: str, *args: Any) -> list[asyncpg.Record]:
    return await fetch(setup.database_url, query, *args)


def _requests(setup: Setup) -> list[dict[str, Any]]:
    return chatwoot_requests(setup.chatwoot)


def _chatwoot_contact(setup: Setup, chatwoot_contact: int) -> dict[str, Any]:
    listed = httpx.get(f"{setup.chatwoot}/_standin/chatwoot/contacts").json()["contacts"]
    (found,) = [c for c in listed if c["id"] == chatwoot_contact]
    return dict(found)


async def _seed_rows(setup: Setup, contact: str, chatwoot_contact: int, marker: str) -> Path:
    """What other parts write: the Chatwoot identity, a data-key claim, an export."""
    archive = setup.export_dir / f"{uuid.uuid4().hex}.json"
    archive.write_text(json.dumps({"marker": marker}))
    conn = await asyncpg.connect(setup.database_url)
    try:
        await conn.execute(
            "INSERT INTO contact_identities (identity_hash, kind, contact_id, external_ref) "
            "VALUES ($1, 'chatwoot', $2, $3)",
            f"test-{uuid.uuid4().hex}",
            contact,
            f"{ACCOUNT}/{chatwoot_contact}",
        )
        await conn.execute(
            "INSERT INTO data_key_claims (contact_id, key_id, claimed_by) VALUES ($1, $2, 'test')",
            contact,
            uuid.uuid4().hex,
        )
        await conn.execute(
            "INSERT INTO gdpr_exports (export_id, contact_id, status, requested_by, expires_at, "
            "path) VALUES ($1, $2, 'completed', 'test', $3, $4)",
            uuid.uuid4().hex,
            contact,
            datetime.now(UTC) + timedelta(days=7),
            archive.name,
        )
    finally:
        await conn.close()
    return archive


async def _deletion(setup: Setup, deletion_id: str) -> list[asyncpg.Record]:
    return await _fetch(
        setup,
        "SELECT d.status AS overall, d.completed_at AS done_at, t.* FROM gdpr_deletions d "
        "JOIN gdpr_deletion_targets t USING (deletion_id) WHERE deletion_id = $1",
        deletion_id,
    )


async def _completed(setup: Setup, deletion_id: str, timeout: float = 60) -> list[asyncpg.Record]:  # noqa: ASYNC109
    async def probe() -> list[asyncpg.Record] | None:
        rows = await _deletion(setup, deletion_id)
        return rows if rows and rows[0]["overall"] == "completed" else None

    rows: list[asyncpg.Record] | None = await eventually(probe, timeout=timeout)
    assert rows, setup.worker.log()[-5000:]
    return rows


_ROWS = {
    "messages": "SELECT count(*) FROM messages WHERE contact_id = $1",
    "conversations": "SELECT count(*) FROM conversations WHERE contact_id = $1",
    "actions": "SELECT count(*) FROM actions WHERE contact_id = $1",
    "consent_records": "SELECT count(*) FROM consent_records WHERE contact_id = $1",
    "contact_identities": "SELECT count(*) FROM contact_identities WHERE contact_id = $1",
    "data_key_claims": "SELECT count(*) FROM data_key_claims WHERE contact_id = $1",
    "live_exports": "SELECT count(*) FROM gdpr_exports WHERE contact_id = $1 "
    "AND (status <> 'deleted' OR path IS NOT NULL)",
}


async def _counts(setup: Setup, contact: str) -> dict[str, int]:
    conn = await asyncpg.connect(setup.database_url)
    try:
        return {name: await conn.fetchval(query, contact) for name, query in _ROWS.items()}
    finally:
        await conn.close()


@dataclass
class Person:
    chatwoot_id: int
    contact: str
    conversation: int
    marker: str
    archive: Path


async def _person(setup: Setup, name: str, phone: str) -> Person:
    """A contact who wrote (and was answered), gave consent, exported, and is in Chatwoot."""
    chatwoot_id, conversation = next(ids), next(ids)
    contact = contact_id(setup.settings, chatwoot_id)
    marker = f"MARKER-{uuid.uuid4().hex}"
    _seed_chatwoot(setup, chatwoot_id, name, phone)
    archive = await _seed_rows(setup, contact, chatwoot_id, marker)
    for text in (f"How long does delivery take? {marker}", f"Can I pay by invoice? {marker}"):
        customer_says(setup.client, conversation, text, chatwoot_id, name=name, phone=phone)
    await produce(setup.settings, consent_event(contact, "marketing", True, ip="198.51.100.4"))

    async def stored() -> bool:
        counts = await _counts(setup, contact)
        delivered = await _fetch(
            setup,
            "SELECT 1 FROM deliveries WHERE action_id IN "
            "(SELECT action_id FROM actions WHERE contact_id = $1)",
            contact,
        )
        return (counts["messages"], counts["actions"], counts["consent_records"]) == (2, 2, 1) and (
            len(delivered) >= 2
        )

    assert await eventually(stored), setup.worker.log()[-5000:]
    return Person(chatwoot_id, contact, conversation, marker, archive)


async def test_an_erasure_removes_every_copy_and_leaves_the_proof(setup: Setup) -> None:
    """Every target completes; the contact's rows, table entries, data key, export file and
    Chatwoot details are gone, the proof is on erasures.v1; another contact is untouched."""
    erased = await _person(setup, "Erin Erasable", "+447700900456")
    kept = await _person(setup, "Kim Kept", "+447700900789")
    actions = [
        r["action_id"]
        for r in await _fetch(
            setup,
            "SELECT action_id FROM actions WHERE contact_id = $1",
            erased.contact,
        )
    ]
    assert await _fetch(
        setup, "SELECT 1 FROM deliveries WHERE action_id = ANY($1::text[])", actions
    )
    deletion_id = f"del_{uuid.uuid4().hex}"
    await produce(setup.settings, erasure_event(erased.contact, deletion_id))

    rows = await _completed(setup, deletion_id)
    assert {r["target"] for r in rows} == TARGETS
    assert all(r["status"] == "completed" and r["completed_at"] for r in rows)
    assert rows[0]["done_at"] is not None

    assert await _counts(setup, erased.contact) == dict.fromkeys(_ROWS, 0)
    delivered = await _fetch(
        setup, "SELECT action_id FROM deliveries WHERE action_id = ANY($1::text[])", actions
    )
    assert delivered == []
    kept_counts = await _counts(setup, kept.contact)
    assert kept_counts["messages"] == 2
    assert kept_counts["consent_records"] == 1
    # The seeded identity and the one the sink records from the contact's messages.
    assert kept_counts["contact_identities"] == 2
    assert kept_counts["live_exports"] == 1
    assert not erased.archive.exists()
    assert kept.archive.exists()
    leftovers = await _fetch(
        setup,
        "SELECT count(*) AS n FROM gdpr_deletion_conversations WHERE deletion_id = $1",
        deletion_id,
    )
    assert leftovers[0]["n"] == 0
    everything = await _fetch(setup, "SELECT personal::text AS p FROM messages")
    assert not [r for r in everything if erased.marker in r["p"]]

    prefix, group = setup.settings.switchboard_topic_prefix, setup.settings.switchboard_worker_group
    bootstrap = setup.settings.kafka_bootstrap_servers
    state = await read_topic(bootstrap, f"{group}-conversation-state-changelog")
    assert latest(state, conversation_key(setup.settings, erased.conversation)) is None
    assert latest(state, conversation_key(setup.settings, kept.conversation)) not in (
        None,
        "absent",
    )
    consent = await read_topic(bootstrap, f"{group}-consent-changelog")
    assert latest(consent, erased.contact) is None
    assert latest(consent, kept.contact)["grants"]["marketing"]["granted"] is True
    data_keys = await read_topic(bootstrap, f"{prefix}data-keys.v1")
    assert (erased.contact.encode(), None) in data_keys
    proofs = [
        json.loads(v)
        for k, v in await read_topic(bootstrap, f"{prefix}erasures.v1")
        if k == erased.contact.encode() and v
    ]
    assert [p["deletion_id"] for p in proofs] == [deletion_id]
    assert datetime.fromisoformat(proofs[0]["erased_at"]).utcoffset() == timedelta(0)
    assert proofs[0]["reason"] == "customer_request"

    anonymised = _chatwoot_contact(setup, erased.chatwoot_id)
    assert anonymised["name"] == f"Deleted User {erased.chatwoot_id}"
    assert anonymised["email"] == f"deleted_{erased.chatwoot_id}@anonymized.local"
    assert anonymised["phone_number"] is None
    assert anonymised["custom_attributes"] == {"gdpr_deleted": True}
    untouched = _chatwoot_contact(setup, kept.chatwoot_id)
    assert untouched["name"] == "Kim Kept"
    assert untouched["custom_attributes"]["loyalty_tier"]


async def test_the_same_erasure_twice_is_one_deletion(setup: Setup) -> None:
    """A redelivered erasure.requested creates nothing new and calls Chatwoot no more."""
    person = await _person(setup, "Tess Twice", "+447700900321")
    deletion_id = f"del_{uuid.uuid4().hex}"
    event = erasure_event(person.contact, deletion_id)
    await produce(setup.settings, event)
    first = await _completed(setup, deletion_id)
    path = f"/api/v1/accounts/{ACCOUNT}/contacts/{person.chatwoot_id}"
    calls = len([r for r in _requests(setup) if r["path"].startswith(path)])

    await produce(setup.settings, event)
    await produce(setup.settings, consent_event(person.contact, "analytics", True))  # a marker

    async def marker_seen() -> bool:
        return (await _counts(setup, person.contact))["consent_records"] == 1

    assert await eventually(marker_seen)  # so the repeated erasure was handled before it
    again = await _deletion(setup, deletion_id)
    assert [(r["target"], r["attempts"]) for r in again] == [
        (r["target"], r["attempts"]) for r in first
    ]
    assert len([r for r in _requests(setup) if r["path"].startswith(path)]) == calls


def _fail_next(setup: Setup, times: int) -> None:
    fault = {"status": 500, "times": times}
    httpx.post(f"{setup.chatwoot}/_standin/faults", json=fault).raise_for_status()


async def test_a_failing_chatwoot_is_retried_until_the_contact_is_anonymised(
    setup: Setup,
) -> None:
    """Chatwoot answering 500 at first: the chatwoot target fails, is retried, completes."""
    chatwoot_id = next(ids)
    contact = contact_id(setup.settings, chatwoot_id)
    _seed_chatwoot(setup, chatwoot_id, "Fay Failing", "+447700900654")
    await _seed_rows(setup, contact, chatwoot_id, "unused")
    _fail_next(setup, times=4)
    deletion_id = f"del_{uuid.uuid4().hex}"
    await produce(setup.settings, erasure_event(contact, deletion_id))

    rows = await _completed(setup, deletion_id)
    (chatwoot,) = [r for r in rows if r["target"] == "chatwoot"]
    assert chatwoot["status"] == "completed"
    assert chatwoot["attempts"] >= 2
    path = f"/api/v1/accounts/{ACCOUNT}/contacts/{chatwoot_id}"
    statuses = [r["status"] for r in _requests(setup) if r["path"].startswith(path)]
    assert statuses[:4] == [500, 500, 500, 500]
    assert statuses[4:] == [200, 200, 200]
    assert _chatwoot_contact(setup, chatwoot_id)["custom_attributes"] == {"gdpr_deleted": True}


async def test_asking_in_a_chatwoot_chat_goes_to_a_person_and_erases_nothing(
    setup: Setup,
) -> None:
    """'Please delete my personal data' in a Chatwoot inbox, which cannot vouch for who is
    writing: a private note for the agents says what was asked, and nobody is erased."""
    person = await _person(setup, "Cara Chatting", "+447700900987")
    customer_says(
        setup.client,
        person.conversation,
        "Please delete my personal data",
        person.chatwoot_id,
        name="Cara Chatting",
        phone="+447700900987",
    )
    path = f"/api/v1/accounts/{ACCOUNT}/conversations/{person.conversation}/messages"

    def note() -> list[dict[str, Any]]:
        return [
            r
            for r in _requests(setup)
            if r["method"] == "POST"
            and r["path"] == path
            and (r["json"] or {}).get("private") is True
        ]

    async def noted() -> list[dict[str, Any]]:
        return note()

    found = await eventually(noted)
    assert found, setup.worker.log()[-5000:]
    assert "deleted" in found[0]["json"]["content"]
    assert (
        await _fetch(
            setup,
            "SELECT deletion_id FROM gdpr_deletions WHERE contact_id = $1",
            person.contact,
        )
        == []
    )


async def test_a_deletion_left_unfinished_is_resumed_by_the_timer(setup: Setup) -> None:
    """A deletion recorded in PostgreSQL whose targets never ran (the worker died after
    recording it) is driven to completion by the timer, without any new event."""
    person = await _person(setup, "Rita Resumed", "+447700900111")
    deletion_id = f"del_{uuid.uuid4().hex}"
    conn = await asyncpg.connect(setup.database_url)
    try:
        await conn.execute(
            "INSERT INTO gdpr_deletions (deletion_id, contact_id, reason, requested_by, status) "
            "VALUES ($1, $2, 'retention', 'test', 'in_progress')",
            deletion_id,
            person.contact,
        )
        await conn.execute(
            "INSERT INTO gdpr_deletion_targets (deletion_id, target, status) "
            "SELECT $1, t, 'pending' FROM unnest($2::text[]) AS t",
            deletion_id,
            sorted(TARGETS),
        )
    finally:
        await conn.close()
    await _completed(setup, deletion_id)
    assert await _counts(setup, person.contact) == dict.fromkeys(_ROWS, 0)
