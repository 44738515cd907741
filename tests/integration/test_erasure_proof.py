"""The erasure proof: after a contact who wrote, was answered, gave and withdrew consent and
exported its data is erased through the compliance API, nothing anywhere still says who it
was or what it wrote; and a replay of the inbound topic into a fresh group writes nothing
about it. Everything is real: ingest in-process, a worker subprocess of this module's own,
Kafka, PostgreSQL and a Chatwoot stand-in of its own.

The scan reads every topic of the run (its prefix, and the Faust topics named after the
worker's group) on every partition from the earliest offset, opening every sealed value
whose key is still on the data-keys topic; every table of the database; every file in the
export folder; and the stand-in's contacts, messages and request log. Another contact's
marker, looked for the same way, is found: the scan is known to see what it looks for.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import SecretStr, ValidationError

from datakeys.build import build_keyring
from datakeys.keyring import KeyRing
from ingest.testing import chatwoot_headers
from schemas.catalogue import ACTIONS, CONTACT_EVENTS, DATA_KEYS, ERASURES, INBOUND
from schemas.events import SealedPersonal, decode
from schemas.sealing import contact_of, open_event
from sinks.postgres.pool import Database
from streams.conversation.stored import SealedStates
from switchboard.settings import Settings
from switchboard.stack.scratch import drop_database
from tests.fakes import chatwoot_payloads
from tests.integration.chatwoot_chat import ACCOUNT, ids
from tests.integration.conftest import (
    ROOT,
    TEST_CHATWOOT_SECRET,
    Worker,
    compliance_key,
    eventually,
    settings_env,
)
from tests.integration.erasure_pipeline import (
    Setup,
    chatwoot_requests,
    erasure_pipeline,
    fetch,
    new_database,
    seed_chatwoot,
)
from tests.integration.privacy_helpers import (
    contact_id,
    conversation_key,
    read_topic,
)

pytestmark = pytest.mark.integration

ADMIN_TOKEN = "proof-chatwoot-admin-token"
# What the erasure keeps on purpose, by the pseudonymous contact id only: the proof of the
# erasure and its targets, the audit trail of the API calls, and the export's history row
# (status `deleted`, no path). None of them may hold anything else about the contact.
PROOF_TABLES = {"gdpr_deletions", "gdpr_deletion_targets", "audit_log", "gdpr_exports"}


# --- people --------------------------------------------------------------------------


@dataclass
class Person:
    name: str
    phone: str
    email: str
    ip: str
    marker: str
    chatwoot_id: int
    conversation: int
    contact: str = ""
    conversation_key: str = ""
    export_id: str = ""

    @property
    def needles(self) -> dict[str, str]:
        """What must be gone after an erasure: marker, phone (digits, so any format),
        name (whole, and the unique surname alone), email and ip address."""
        return {
            "marker": self.marker,
            "phone": self.phone.lstrip("+"),
            "name": self.name,
            "surname": self.name.split()[-1],
            "email": self.email,
            "ip": self.ip,
        }


taken: set[str] = set()


def unique(draw: Callable[[], str]) -> str:
    """A value no other person of the run has. The scan matches substrings, so values are
    also drawn at a fixed width: none can run on into another."""
    value = draw()
    while value in taken:
        value = draw()
    taken.add(value)
    return value


def new_person(settings: Settings, first: str) -> Person:
    tag = uuid.uuid4().hex[:8]
    surname = "Q" + "".join(random.choices("bcdfghjklmnpqrstvwxz", k=10))  # noqa: S311
    person = Person(
        name=f"{first} {surname}",
        phone=unique(lambda: "+4477009" + "".join(random.choices("0123456789", k=5))),  # noqa: S311
        email=f"{first.lower()}.{tag}@example.org",
        ip=unique(lambda: ".".join(["10", *(str(random.randint(100, 250)) for _ in range(3))])),  # noqa: S311
        marker=f"PROOFMARK-{uuid.uuid4().hex}",
        chatwoot_id=next(ids),
        conversation=next(ids),
    )
    person.contact = contact_id(settings, person.chatwoot_id)
    person.conversation_key = conversation_key(settings, person.conversation)
    return person


def chatwoot_message(person: Person, text: str) -> bytes:
    """A signed-ready message_created in which every trace of the sample contact is this
    person's: sender, conversation sender, the last message's sender and the inbox source."""
    raw = json.dumps(chatwoot_payloads.incoming_message())
    for old, new in (
        (chatwoot_payloads.CONTACT_NAME, person.name),
        (chatwoot_payloads.CONTACT_EMAIL, person.email),
        (chatwoot_payloads.CONTACT_PHONE, person.phone),
        (chatwoot_payloads.CONTACT_PHONE.lstrip("+"), person.phone.lstrip("+")),
        (chatwoot_payloads.MESSAGE_TEXT, text),
    ):
        raw = raw.replace(old, new)
    body = json.loads(raw)
    body["id"] = next(ids)
    body["conversation"]["id"] = person.conversation
    body["conversation"]["contact_inbox"]["contact_id"] = person.chatwoot_id
    for sender in (
        body["sender"],
        body["conversation"]["meta"]["sender"],
        body["conversation"]["messages"][0]["sender"],
    ):
        sender["id"] = person.chatwoot_id
    body["conversation"]["messages"][0]["sender_id"] = person.chatwoot_id
    return json.dumps(body).encode()


# --- the module's pipeline -------------------------------------------------------------


@pytest.fixture(scope="module")
async def setup(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Setup]:
    tmp = tmp_path_factory.mktemp("proof")
    async with erasure_pipeline(settings, tmp, "proof", ADMIN_TOKEN, REPLAY_GROUPS) as pipeline:
        yield pipeline


REPLAY_GROUPS: list[str] = []


async def live_through_it(setup: Setup, person: Person) -> None:
    """The contact writes three messages with its marker and is answered; gives and then
    withdraws marketing consent through the API; asks for an export, which is written."""
    seed_chatwoot(
        setup.chatwoot,
        person.chatwoot_id,
        person.name,
        person.email,
        person.phone,
        loyalty_tier="gold",
        nickname=person.name,
    )
    for text in (
        f"How long does delivery take? {person.marker}",
        f"Can I pay by invoice? {person.marker}",
        f"I am {person.name}, call me on {person.phone}: how do I return an item? {person.marker}",
    ):
        raw = chatwoot_message(person, text)
        answer = setup.client.post(
            "/webhooks/chatwoot",
            content=raw,
            headers=chatwoot_headers(TEST_CHATWOOT_SECRET, raw),
        )
        assert answer.status_code == 200, answer.text

    async def answered() -> bool:
        rows = await fetch(
            setup.database_url,
            "SELECT (SELECT count(*) FROM messages WHERE contact_id = $1) AS messages, "
            "(SELECT count(*) FROM deliveries d JOIN actions a USING (action_id) "
            " WHERE a.contact_id = $1) AS delivered",
            person.contact,
        )
        return bool(rows[0]["messages"] == 3 and rows[0]["delivered"] >= 3)

    assert await eventually(answered, timeout=45), setup.worker.log()[-5000:]
    replies = [
        r
        for r in chatwoot_requests(setup.chatwoot)
        if f"/conversations/{person.conversation}/" in r["path"]
    ]
    assert replies, "the bot never answered"

    reference = f"chatwoot:{ACCOUNT}/{person.chatwoot_id}"
    for granted in (True, False):
        answer = setup.client.post(
            "/gdpr/consent",
            headers=setup.headers,
            json={
                "contact": reference,
                "consent_type": "marketing",
                "granted": granted,
                "source": "web_form",
                "ip_address": person.ip,
            },
        )
        assert answer.status_code == 202, answer.text
        assert answer.json()["contact_id"] == person.contact

    async def consented() -> bool:
        rows = await fetch(
            setup.database_url,
            "SELECT granted FROM consent_records WHERE contact_id = $1 ORDER BY occurred_at",
            person.contact,
        )
        return [r["granted"] for r in rows] == [True, False]

    assert await eventually(consented), setup.worker.log()[-5000:]

    answer = setup.client.post("/gdpr/export", headers=setup.headers, json={"contact": reference})
    assert answer.status_code == 202, answer.text
    person.export_id = answer.json()["export_id"]

    async def exported() -> dict[str, Any] | None:
        status = setup.client.get(
            f"/gdpr/export/{person.export_id}/status", headers=setup.headers
        ).json()
        return status if status["status"] == "completed" else None

    status = await eventually(exported)
    assert status, setup.worker.log()[-5000:]
    archive = (setup.export_dir / f"{person.export_id}.json").read_text()
    assert person.marker in archive
    assert person.name in archive


async def caught_up(settings: Settings, group: str) -> bool:
    """Whether the group has committed, on every partition of the topics the worker reads,
    the offset at the end of the log."""
    prefix = settings.switchboard_topic_prefix
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        partitions = [
            TopicPartition(t.full_name(prefix), p)
            for t in (INBOUND, CONTACT_EVENTS, ACTIONS)
            for p in range(t.partitions)
        ]
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
        await admin.close()
    done = {tp: meta.offset for tp, meta in committed.items()}
    return all(end == 0 or done.get(tp, -1) >= end for tp, end in ends.items())


async def about(settings: Settings, person: Person) -> dict[str, list[bytes | None]]:
    """The values keyed by the person's contact id on the shared contact-keyed topics."""
    found: dict[str, list[bytes | None]] = {}
    for topic in (ERASURES, DATA_KEYS):
        records = await read_topic(
            settings.kafka_bootstrap_servers, topic.full_name(settings.switchboard_topic_prefix)
        )
        found[topic.name] = [v for k, v in records if k == person.contact.encode()]
    return found


def chatwoot_contact(setup: Setup, person: Person) -> dict[str, Any]:
    """The contact as Chatwoot's API shows it to the admin token."""
    answer = httpx.get(
        f"{setup.chatwoot}/api/v1/accounts/{ACCOUNT}/contacts/{person.chatwoot_id}",
        headers={"api_access_token": ADMIN_TOKEN},
    )
    return dict(answer.json()["payload"])


# --- the scan --------------------------------------------------------------------------


@dataclass
class Found:
    """Where each needle was seen: ``{needle name: {place, ...}}``."""

    hits: dict[str, set[str]] = field(default_factory=dict)

    def look(self, needles: dict[str, str], place: str, text: str) -> None:
        for name, needle in needles.items():
            if needle in text:
                self.hits.setdefault(name, set()).add(place)

    def where(self, *names: str) -> set[str]:
        return set().union(*(self.hits.get(n, set()) for n in names))


async def run_topics(settings: Settings, groups: Iterable[str]) -> dict[str, int]:
    """Every topic of the run, with its partition count: the topics of its prefix, and the
    Faust topics (table changelogs, the assignor's) named after each worker group."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        starts = (settings.switchboard_topic_prefix, *(f"{g}-" for g in groups))
        names = [n for n in await admin.list_topics() if n.startswith(starts)]
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    return {d["topic"]: len(d["partitions"]) for d in described}


Record = tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]


async def read_all(settings: Settings, topic_partitions: dict[str, int]) -> list[Record]:
    """Every record of these topics, every partition, from the earliest offset."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, p) for topic, n in topic_partitions.items() for p in range(n)
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[Record] = []
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            batches = await consumer.getmany(timeout_ms=500)
            for tp, batch in batches.items():
                records.extend((tp.topic, r.key, r.value, list(r.headers)) for r in batch)
        return records
    finally:
        await consumer.stop()


async def opened_text(keyring: KeyRing, value: bytes) -> tuple[str | None, str]:
    """What a reader holding every key still on the log reads in a value: the event with
    its personal data opened where its key remains (never skipping erased contacts, so this
    is what sealing alone leaves), or a conversation state with its turns opened. Returns
    (the contact it is about, the text); text is empty for values that are neither."""
    try:
        event = decode(value)
    except ValidationError:
        event = None
    if event is not None:
        personal = getattr(event.data, "personal", None)
        if isinstance(personal, SealedPersonal):
            contact = contact_of(event) or ""
            key = await keyring.key_sealed_with(contact, personal.sealed.key_id)
            event = open_event(event, key)
        return contact_of(event), event.model_dump_json()
    try:
        stored = json.loads(value)
    except ValueError:
        return None, ""
    if isinstance(stored, dict) and "sealed_turns" in stored:
        state = await SealedStates(keyring).load(stored)
        return stored.get("contact_id"), state.model_dump_json()
    return None, ""


async def scan_topics(
    settings: Settings, groups: Iterable[str], people: dict[str, Person]
) -> tuple[dict[str, Found], dict[str, Found], list[str]]:
    """Raw and opened sightings per person, and the topics scanned."""
    topic_partitions = await run_topics(settings, groups)
    records = await read_all(settings, topic_partitions)
    raw = {who: Found() for who in people}
    opened = {who: Found() for who in people}

    async def no_database() -> Database:
        raise AssertionError("opening values never claims a key")

    keyring = build_keyring(settings, no_database)
    await keyring.start()
    try:
        for topic, key, value, headers in records:
            texts = [
                (key or b"").decode(errors="replace"),
                (value or b"").decode(errors="replace"),
                *(f"{h}={v.decode(errors='replace')}" for h, v in headers),
            ]
            for who, person in people.items():
                for text in texts:
                    raw[who].look(person.needles, topic, text)
            if value:
                _, text = await opened_text(keyring, value)
                for who, person in people.items():
                    opened[who].look(person.needles, topic, text)
    finally:
        await keyring.stop()
    return raw, opened, sorted(topic_partitions)


async def scan_database(url: str, people: dict[str, Person]) -> dict[str, Found]:
    """Every row of every table, as JSON text: needles and contact ids."""
    found = {who: Found() for who in people}
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' "
            "AND table_name <> 'proof_writes'"
        )
        for table in tables:
            name = table["table_name"]
            rows = await conn.fetch(f'SELECT row_to_json(t)::text AS j FROM "{name}" t')  # noqa: S608
            for row in rows:
                for who, person in people.items():
                    found[who].look(
                        {**person.needles, "contact_id": person.contact}, name, row["j"]
                    )
    finally:
        await conn.close()
    return found


async def tap_writes(url: str) -> None:
    """Record every row inserted or updated in any table of this database, as JSON, in
    `proof_writes`: what a worker wrote, even if it was deleted again later."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "CREATE TABLE proof_writes (tbl text NOT NULL, row_json text NOT NULL);"
            "CREATE FUNCTION proof_tap() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "INSERT INTO proof_writes VALUES (TG_TABLE_NAME, row_to_json(NEW)::text); "
            "RETURN NEW; END $$"
        )
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_type = 'BASE TABLE' AND table_name <> 'proof_writes'"
        )
        for table in tables:
            name = table["table_name"]
            await conn.execute(
                f'CREATE TRIGGER proof_tap AFTER INSERT OR UPDATE ON "{name}" '
                "FOR EACH ROW EXECUTE FUNCTION proof_tap()"
            )
    finally:
        await conn.close()


async def written(url: str, people: dict[str, Person]) -> dict[str, Found]:
    """Needles and contact ids in every row ever written, by table."""
    found = {who: Found() for who in people}
    for row in await fetch(url, "SELECT tbl, row_json FROM proof_writes"):
        for who, person in people.items():
            needles = {**person.needles, "contact_id": person.contact}
            found[who].look(needles, row["tbl"], row["row_json"])
    return found


def scan_files(directory: Path, people: dict[str, Person]) -> dict[str, Found]:
    found = {who: Found() for who in people}
    for path in directory.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode(errors="replace")
            for who, person in people.items():
                found[who].look(person.needles, path.name, text)
    return found


def scan_chatwoot(setup: Setup, people: dict[str, Person]) -> dict[str, Found]:
    """The stand-in's contacts (through Chatwoot's own API, with the admin token), the
    messages it holds per conversation (the bot's replies), and its request log: every
    request Switchboard made to it, bodies included (replies, hand-off notes, the contact
    updates of the erasure). Switchboard never sends a customer's details to Chatwoot, so
    even the log of past traffic must not hold them."""
    found = {who: Found() for who in people}
    admin = {"api_access_token": ADMIN_TOKEN}
    for who, person in people.items():
        contact = httpx.get(
            f"{setup.chatwoot}/api/v1/accounts/{ACCOUNT}/contacts/{person.chatwoot_id}",
            headers=admin,
        )
        messages = httpx.get(
            f"{setup.chatwoot}/api/v1/accounts/{ACCOUNT}/conversations/{person.conversation}/messages",
            headers=admin,
        )
        for place, answer in (("contact", contact), ("messages", messages)):
            found[who].look(person.needles, place, answer.text)
    listed = httpx.get(f"{setup.chatwoot}/_standin/chatwoot/contacts").text
    log = json.dumps(chatwoot_requests(setup.chatwoot))
    for who, person in people.items():
        found[who].look(person.needles, "contact list", listed)
        found[who].look(person.needles, "request log", log)
    return found


# --- the test --------------------------------------------------------------------------


async def erase(setup: Setup, person: Person) -> dict[str, Any]:
    answer = setup.client.request(
        "DELETE",
        f"/gdpr/contacts/{person.contact}",
        headers=setup.headers,
        json={"confirmation": True, "reason": "customer_request"},
    )
    assert answer.status_code == 202, answer.text
    deletion_id = answer.json()["deletion_id"]

    async def completed() -> dict[str, Any] | None:
        status: dict[str, Any] = setup.client.get(
            f"/gdpr/deletions/{deletion_id}", headers=setup.headers
        ).json()
        return status if status["status"] == "completed" else None

    status: dict[str, Any] | None = await eventually(completed, timeout=60)
    assert status, setup.worker.log()[-5000:]
    return status


async def test_an_erased_contact_is_nowhere_and_a_replay_does_not_bring_it_back(
    setup: Setup, settings: Settings
) -> None:
    """Two contacts live through the pipeline; one is erased through the API. Every target
    completes; no topic (raw or opened), table, export file or Chatwoot record still holds
    its marker, phone, name, email or ip address, while the other's are found; a replay of
    the inbound topic into a fresh group writes nothing about it. (Faust tables are kept in
    memory, so their changelog topics are the whole of them.)"""
    token = await compliance_key(setup.settings, "erasure-proof")
    setup.headers.update({"Authorization": f"Bearer {token}"})
    erased = new_person(setup.settings, "Erin")
    kept = new_person(setup.settings, "Kim")
    people = {"erased": erased, "kept": kept}
    await asyncio.gather(live_through_it(setup, erased), live_through_it(setup, kept))

    # Before the erasure the scan sees the erased contact everywhere it will look after.
    raw_before, opened_before, _ = await scan_topics(
        setup.settings, [setup.settings.switchboard_worker_group], people
    )
    assert opened_before["erased"].where("marker", "name", "phone"), "nothing to erase"
    assert not raw_before["erased"].where("marker", "name", "phone", "email", "ip"), (
        "plaintext on the log before any erasure"
    )

    status = await erase(setup, erased)
    assert status["contact_id"] == erased.contact
    assert {t["target"] for t in status["targets"]} == {
        "data-key",
        "consent",
        "conversation-state",
        "exports",
        "chatwoot",
        "postgres",
    }
    assert all(t["status"] == "completed" and t["completed_at"] for t in status["targets"])
    assert status["completed_at"]

    # Kafka: every topic of the run and the worker's Faust topics, raw and opened.
    group = setup.settings.switchboard_worker_group
    raw, opened, topic_names = await scan_topics(setup.settings, [group], people)
    assert f"{group}-conversation-state-changelog" in topic_names
    assert f"{group}-consent-changelog" in topic_names
    assert INBOUND.full_name(setup.settings.switchboard_topic_prefix) in topic_names
    assert raw["erased"].hits == {}
    assert opened["erased"].hits == {}
    assert raw["kept"].hits == {}  # sealed: nothing in plaintext
    # The kept contact opens: its marker in its messages, its state's turns and actions.
    assert f"{group}-conversation-state-changelog" in opened["kept"].where("marker")
    assert INBOUND.full_name(setup.settings.switchboard_topic_prefix) in opened["kept"].where(
        "marker", "name", "phone"
    )
    assert opened["kept"].where("ip")  # the consent events' sealed ip address

    # PostgreSQL: every table; only the proof tables still name the erased contact's id.
    database = await scan_database(setup.database_url, people)
    assert database["erased"].where(*erased.needles) == set()
    assert database["erased"].where("contact_id") <= PROOF_TABLES
    assert {"messages", "consent_records"} <= database["kept"].where("marker", "name", "ip")

    # The export folder: the erased contact's archive is gone, the kept one is there.
    files = scan_files(setup.export_dir, people)
    assert files["erased"].hits == {}
    assert files["kept"].where("marker") == {f"{kept.export_id}.json"}
    assert not (setup.export_dir / f"{erased.export_id}.json").exists()
    assert scan_files(setup.tmp / "worker-data", people)["erased"].hits == {}

    # Chatwoot: the contact anonymised, and no request ever carried the contact's details.
    chatwoot = scan_chatwoot(setup, people)
    assert chatwoot["erased"].hits == {}
    assert "contact" in chatwoot["kept"].where("name", "phone", "email")
    anonymised = chatwoot_contact(setup, erased)
    assert anonymised["name"] == f"Deleted User {erased.chatwoot_id}"
    assert anonymised["email"] == f"deleted_{erased.chatwoot_id}@anonymized.local"
    assert anonymised["phone_number"] is None
    assert anonymised["custom_attributes"] == {"gdpr_deleted": True}

    await replay_into_a_fresh_group(setup, settings, people)


async def replay_into_a_fresh_group(
    setup: Setup, settings: Settings, people: dict[str, Person]
) -> None:
    """`switchboard replay` seeds a new group at offset 0 of the inbound topic; a worker
    in that group, on a fresh database and export folder, reprocesses everything: the kept
    contact's conversation comes back, the erased one's does not, in any sink."""
    erased, kept = people["erased"], people["kept"]
    replay_group = f"proof-replay-{uuid.uuid4().hex[:8]}"
    REPLAY_GROUPS.append(replay_group)
    url = await new_database(settings, f"replay_{uuid.uuid4().hex[:6]}")
    await tap_writes(url)
    tmp = setup.tmp / "replay"
    tmp.mkdir()
    export_dir = tmp / "exports"
    export_dir.mkdir(mode=0o700)
    fresh = setup.settings.model_copy(update={"database_url": SecretStr(url)})
    env = {
        **settings_env(fresh, tmp),
        "CHATWOOT_ADMIN_TOKEN": ADMIN_TOKEN,
        "SWITCHBOARD_EXPORT_DIR": str(export_dir),
    }
    sent_before = len(chatwoot_requests(setup.chatwoot))
    shared_before = await about(setup.settings, erased)
    assert len(shared_before[ERASURES.name]) == 1  # the proof
    command = subprocess.run(  # noqa: ASYNC221 - a short CLI run, nothing else is waiting
        [
            sys.executable,
            "-m",
            "switchboard.cli",
            "replay",
            "--topic",
            "inbound.v1",
            "--from-offset",
            "0",
            "--group",
            replay_group,
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert command.returncode == 0, command.stderr
    worker = Worker({**env, "SWITCHBOARD_WORKER_GROUP": replay_group}, tmp / "worker.log")
    worker.start()
    try:

        async def reprocessed() -> bool:
            rows = await fetch(
                url, "SELECT count(*) AS n FROM messages WHERE contact_id = $1", kept.contact
            )
            return rows[0]["n"] == 3 and await caught_up(setup.settings, replay_group)

        # Caught up on every partition of the topics it reads: the erased contact's events
        # (on other partitions than the kept one's) were reached, and skipped.
        assert await eventually(reprocessed, timeout=60), worker.log()[-5000:]
        # Every row the replay worker ever wrote, not only what is left: the erasure it
        # reads again on contact-events would delete afterwards what it had let through.
        writes = await written(url, people)
        assert writes["erased"].where("contact_id") <= PROOF_TABLES
        assert writes["erased"].where(*erased.needles) == set()
        assert {"messages", "actions"} <= writes["kept"].where("contact_id")
        assert "messages" in writes["kept"].where("marker", "name", "phone")
        database = await scan_database(url, people)
        assert database["erased"].where("contact_id") <= PROOF_TABLES
        assert database["erased"].where(*erased.needles) == set()
        assert "messages" in database["kept"].where("marker", "name", "phone")
        assert "erased_contact_skipped" in worker.log()
        # Nor did it carry out the erasure again on the shared topics (a second proof, a
        # second tombstone: for a contact who came back since, a shredded live key).
        assert await about(setup.settings, erased) == shared_before
        # Nothing reached Chatwoot from the replay group (its actions are marked replayed),
        # least of all anything for the erased contact's conversation.
        since = chatwoot_requests(setup.chatwoot)[sent_before:]
        assert not [r for r in since if f"/conversations/{erased.conversation}/" in r["path"]]
        assert not [r for r in since if f"/conversations/{kept.conversation}/" in r["path"]]
        assert await fetch(
            url,
            "SELECT 1 FROM suppressed_deliveries s JOIN actions a USING (action_id) "
            "WHERE a.contact_id = $1",
            kept.contact,
        )
        assert not [r for r in since if f"/contacts/{erased.chatwoot_id}" in r["path"]]
        assert scan_files(export_dir, people)["erased"].hits == {}
        raw, opened, topic_names = await scan_topics(setup.settings, [replay_group], people)
        assert f"{replay_group}-conversation-state-changelog" in topic_names
        assert raw["erased"].hits == {}
        assert opened["erased"].hits == {}
        assert opened["kept"].where("marker")
    finally:
        worker.stop()
        await drop_database(settings.database_url.get_secret_value(), url)
