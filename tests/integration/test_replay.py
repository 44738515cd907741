"""`switchboard replay` against the real broker: seeding a new group from a time, refusing a
group with live members, a dry run that changes nothing, and re-publishing a range through a
running worker (stored again, nothing sent; sent with --resend; erased contacts left out)."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from schemas.catalogue import ACTIONS, ERASURES, INBOUND
from schemas.events import (
    ChatwootRoute,
    MessageReceived,
    MessageReceivedData,
    Personal,
    encode,
    kafka_headers,
)
from switchboard.settings import Settings
from tests.fakes.chatwoot_payloads import ACCOUNT_ID
from tests.integration.chatwoot_chat import Requests
from tests.integration.conftest import ROOT, Worker, eventually, isolated, settings_env

pytestmark = pytest.mark.integration

# key, value, timestamp in ms (None: now), headers
Rec = tuple[bytes | None, bytes, int | None, list[tuple[str, bytes]]]
_conversations = itertools.count(int(time.time()) % 1_000_000 * 100)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """`switchboard replay …` as a child process: exit code, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "switchboard.cli",
        "replay",
        *args,
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def committed(settings: Settings, group: str, topic: str) -> dict[int, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic}


async def produce(
    settings: Settings,
    topic: str,
    records: Sequence[Rec],
    *,
    partition: int | None = None,
) -> None:
    """(key, value, timestamp ms or None for now, headers) each, acknowledged by all."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        for key, value, stamp, headers in records:
            await producer.send(
                topic, value, key=key, partition=partition, timestamp_ms=stamp, headers=headers
            )
        await producer.flush()
    finally:
        await producer.stop()


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


async def test_replay_of_the_last_hour_seeds_a_new_group(
    settings: Settings, tmp_path: Path
) -> None:
    """Per partition, the new group starts at the first record of the last hour, and the
    command reports the records in range; older records stay behind."""
    own = await isolated(settings, "replay")
    topic = INBOUND.full_name(own.switchboard_topic_prefix)
    now = datetime.now(UTC)
    old, recent = ms(now - timedelta(hours=2)), ms(now - timedelta(minutes=20))
    for partition, (n_old, n_recent) in enumerate([(3, 2), (1, 0), (0, 4)]):
        older: Rec = (b"k", b"old", old, [])
        newer: Rec = (b"k", b"new", recent, [])
        batch = [older] * n_old + [newer] * n_recent
        await produce(own, topic, batch, partition=partition)
    env = settings_env(own, tmp_path)
    group = f"replay-new-{uuid.uuid4().hex[:6]}"

    hour_ago = iso(now - timedelta(hours=1))
    code, out, err = await cli(
        env, "--topic", "inbound.v1", "--from-time", hour_ago, "--group", group
    )

    assert code == 0, err
    assert "records in range: 6" in out
    assert "partitions: 6" in out
    # Partition 1 holds only an old record: the group starts after it, at its log end.
    assert await committed(own, group, topic) == {0: 3, 1: 1, 2: 0, 3: 0, 4: 0, 5: 0}


async def test_naive_time_is_refused(settings: Settings, tmp_path: Path) -> None:
    """A time without an offset is refused before anything is asked of Kafka."""
    env = settings_env(settings, tmp_path)
    code, _, err = await cli(env, "--topic", "inbound.v1", "--from-time", "2026-11-26T10:00")
    assert code == 2
    assert "no UTC offset" in err


async def test_group_with_live_members_is_refused(settings: Settings, tmp_path: Path) -> None:
    """A group with a consumer in it keeps its offsets; the message names group and count."""
    own = await isolated(settings, "replay")
    topic = INBOUND.full_name(own.switchboard_topic_prefix)
    await produce(own, topic, [(b"k", b"x", None, [])] * 3, partition=0)
    group = f"replay-live-{uuid.uuid4().hex[:6]}"
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=own.kafka_bootstrap_servers,
        group_id=group,
        auto_offset_reset="latest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:

        async def joined() -> bool:
            await consumer.getmany(timeout_ms=200)
            return bool(consumer.assignment())

        assert await eventually(joined, timeout=30)
        await consumer.commit({TopicPartition(topic, 0): 3})
        env = settings_env(own, tmp_path)
        code, _, err = await cli(
            env, "--topic", "inbound.v1", "--from-offset", "0", "--group", group
        )
        assert code == 1
        assert f"consumer group '{group}' has 1 active member" in err
        assert (await committed(own, group, topic))[0] == 3
    finally:
        await consumer.stop()


async def test_dry_run_changes_no_offsets(settings: Settings, tmp_path: Path) -> None:
    """The plan is printed per partition with where the group stands; the group stays."""
    own = await isolated(settings, "replay")
    topic = INBOUND.full_name(own.switchboard_topic_prefix)
    await produce(own, topic, [(b"k", b"x", None, [])] * 5, partition=2)
    group = f"replay-dry-{uuid.uuid4().hex[:6]}"
    env = settings_env(own, tmp_path)
    code, _, err = await cli(env, "--topic", "inbound.v1", "--from-offset", "4", "--group", group)
    assert code == 0, err
    before = await committed(own, group, topic)
    assert before[2] == 4

    code, out, err = await cli(
        env, "--topic", "inbound.v1", "--from-offset", "1", "--group", group, "--dry-run"
    )

    assert code == 0, err
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    assert rows["PARTITION"] == ["CURRENT", "FROM", "TO", "COUNT"]
    assert rows["2"] == ["4", "1", "5", "4"]
    assert "dry run: nothing was changed" in out
    assert await committed(own, group, topic) == before


def message(conversation: int, contact: str) -> MessageReceived:
    return MessageReceived(
        id=f"replay-test:{uuid.uuid4().hex}",
        source="chatwoot",
        time=datetime.now(UTC),
        subject=f"cv_replay_{conversation}",
        correlation_id=uuid.uuid4().hex,
        data=MessageReceivedData(
            channel="chatwoot",
            contact_id=contact,
            route=ChatwootRoute(account_id=ACCOUNT_ID, conversation_id=conversation, inbox_id=12),
            provider_message_id=uuid.uuid4().hex,
            message_type="text",
            personal=Personal(text="How long does delivery take?"),
        ),
    )


def record(event: MessageReceived, stamp: datetime) -> tuple[bytes, bytes, int, list[Any]]:
    return event.subject.encode(), encode(event), ms(stamp), kafka_headers(event)


def conv(event: MessageReceived) -> int:
    return event.data.route.conversation_id  # type: ignore[union-attr]


async def caught_up(settings: Settings, topic: str) -> bool:
    """The worker's group has committed everything written to the topic so far."""
    group = await committed(settings, settings.switchboard_worker_group, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(ACTIONS.partitions)]
        ends = await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
    return all(group.get(tp.partition, 0) >= end for tp, end in ends.items())


def sent_to(requests: list[dict[str, Any]], conversation: int) -> list[dict[str, Any]]:
    prefix = f"/api/v1/accounts/{ACCOUNT_ID}/conversations/{conversation}/"
    return [r for r in requests if r["method"] == "POST" and r["path"].startswith(prefix)]


async def test_republish_reprocesses_and_sends_only_with_resend(
    settings: Settings, tmp_path: Path, standin_requests: Requests
) -> None:
    """Messages the worker never saw (its group was moved past them) are re-published: the
    worker stores them and decides replies, and the Chatwoot stand-in receives nothing; a
    second replay stores nothing twice; an erased contact's message is left out; with
    --resend the replies reach Chatwoot."""
    own = await isolated(settings, "replayw")
    topic = INBOUND.full_name(own.switchboard_topic_prefix)
    env = settings_env(own, tmp_path)
    now = datetime.now(UTC)
    quiet = [message(next(_conversations), f"ct_replay_{uuid.uuid4().hex[:8]}") for _ in range(2)]
    erased = message(next(_conversations), f"ct_erased_{uuid.uuid4().hex[:8]}")
    loud = [message(next(_conversations), f"ct_replay_{uuid.uuid4().hex[:8]}") for _ in range(2)]
    early, late = now - timedelta(minutes=50), now - timedelta(minutes=30)
    await produce(own, topic, [record(e, early) for e in [*quiet, erased]])
    await produce(own, topic, [record(e, late) for e in loud])
    erasure = {"deletion_id": "del_1", "erased_at": iso(now), "reason": "customer_request"}
    erasures = ERASURES.full_name(own.switchboard_topic_prefix)
    await produce(
        own, erasures, [(erased.data.contact_id.encode(), json.dumps(erasure).encode(), None, [])]
    )

    # The worker's group starts past these records: it never handles the originals.
    code, _, err = await cli(
        env, "--topic", "inbound.v1", "--from-time", iso(now + timedelta(minutes=1))
    )
    assert code == 0, err
    worker = Worker(env, tmp_path / "worker.log")
    worker.start()
    database = await asyncpg.connect(own.database_url.get_secret_value())
    try:
        first = iso(now - timedelta(minutes=55))
        middle = iso(now - timedelta(minutes=40))
        args = ["--topic", "inbound.v1", "--republish", "--from-time", first, "--to-time", middle]
        code, out, err = await cli(env, *args)
        assert code == 0, err
        assert "republished: 2" in out
        assert "skipped (erased): 1" in out
        assert "3/3" in err  # the progress bar's last state

        quiet_ids = [e.id for e in quiet]

        async def suppressed() -> bool:
            count = await database.fetchval(
                "SELECT count(*) FROM suppressed_deliveries WHERE action_id LIKE ANY($1)",
                [f"%:{i}" for i in quiet_ids],
            )
            return bool(count == 2)

        assert await eventually(suppressed, timeout=90, interval=1), worker.log()[-3000:]
        stored = "SELECT event_id FROM messages WHERE event_id = ANY($1)"
        ids = [*quiet_ids, erased.id]
        assert sorted(r[0] for r in await database.fetch(stored, ids)) == sorted(quiet_ids)

        # Again: nothing is stored twice, and still nothing sent.
        code, out, err = await cli(env, *args)
        assert code == 0, err
        await asyncio.sleep(3)
        assert len(await database.fetch(stored, ids)) == 2
        requests = standin_requests("chatwoot")
        for event in [*quiet, erased]:
            assert sent_to(requests, event.data.route.conversation_id) == []  # type: ignore[union-attr]

        # With --resend the later messages' replies do reach Chatwoot.
        resend = ["--from-time", middle, "--to-time", iso(now - timedelta(minutes=20))]
        code, out, err = await cli(env, "--topic", "inbound.v1", "--republish", "--resend", *resend)
        assert code == 0, err
        assert "republished: 2" in out

        async def delivered() -> bool:
            requests = standin_requests("chatwoot")
            return all(
                sent_to(requests, e.data.route.conversation_id)  # type: ignore[union-attr]
                for e in loud
            )

        assert await eventually(delivered, timeout=90, interval=1), worker.log()[-3000:]
        requests = standin_requests("chatwoot")
        for event in quiet:
            assert sent_to(requests, event.data.route.conversation_id) == []  # type: ignore[union-attr]

        # Every action re-published with --resend: the delivery log skips the delivered ones.
        await asyncio.sleep(2)  # the replies' last steps (hand-off status) settle
        before = {e.id: len(sent_to(standin_requests("chatwoot"), conv(e))) for e in loud}
        actions = ACTIONS.full_name(own.switchboard_topic_prefix)
        since = ["--from-time", iso(now - timedelta(hours=1))]
        code, out, err = await cli(env, "--topic", "actions.v1", "--republish", "--resend", *since)
        assert code == 0, err
        assert await eventually(lambda: caught_up(own, actions), timeout=60, interval=1)
        after = {e.id: len(sent_to(standin_requests("chatwoot"), conv(e))) for e in loud}
        assert after == before
        assert "outbound_step_already_delivered" in worker.log()  # the delivery log's doing
    finally:
        await database.close()
        worker.stop()


async def test_a_worker_in_a_new_group_reprocesses_the_last_hour_and_sends_nothing(
    settings: Settings, tmp_path: Path, standin_requests: Requests
) -> None:
    """The issue's check: replay the last hour into a new group and run a worker in it. The
    events are processed again (stored, answered by the flow), the Chatwoot stand-in gets
    nothing, and the command reported the counts."""
    own = await isolated(settings, "replayg")
    topic = INBOUND.full_name(own.switchboard_topic_prefix)
    now = datetime.now(UTC)
    events = [message(next(_conversations), f"ct_group_{uuid.uuid4().hex[:8]}") for _ in range(3)]
    stale = message(next(_conversations), f"ct_group_{uuid.uuid4().hex[:8]}")
    await produce(own, topic, [record(stale, now - timedelta(hours=3))])
    await produce(own, topic, [record(e, now - timedelta(minutes=30)) for e in events])
    group = f"{own.switchboard_worker_group}-replay"
    replaying = own.model_copy(update={"switchboard_worker_group": group})
    live_env = settings_env(own, tmp_path)  # the data engineer runs replay as the pipeline

    hour_ago = iso(now - timedelta(hours=1))
    code, out, err = await cli(
        live_env, "--topic", "inbound.v1", "--from-time", hour_ago, "--group", group
    )
    assert code == 0, err
    assert "records in range: 3" in out
    assert "sends nothing (a replay group)" in out

    worker = Worker(settings_env(replaying, tmp_path), tmp_path / "worker.log")
    worker.start()
    database = await asyncpg.connect(own.database_url.get_secret_value())
    try:
        ids = [e.id for e in events]

        async def suppressed() -> bool:
            count = await database.fetchval(
                "SELECT count(*) FROM suppressed_deliveries WHERE action_id LIKE ANY($1)",
                [f"%:{i}" for i in ids],
            )
            return bool(count == len(ids))

        assert await eventually(suppressed, timeout=90, interval=1), worker.log()[-3000:]
        stored = await database.fetch(
            "SELECT event_id FROM messages WHERE event_id = ANY($1)", [*ids, stale.id]
        )
        assert sorted(r[0] for r in stored) == sorted(ids)
        requests = standin_requests("chatwoot")
        for event in [*events, stale]:
            assert sent_to(requests, event.data.route.conversation_id) == []  # type: ignore[union-attr]
    finally:
        await database.close()
        worker.stop()
