"""Reading consumer groups from the broker: members, committed and log-end offsets, and the
timestamp of the record at a committed offset.

`LagReader` keeps one admin client and one group-less consumer open, so a monitor sampling
every few seconds does not reconnect each time; `read_once` opens, reads and closes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from aiokafka.protocol.admin import (
    DescribeGroupsRequest_v0,
    DescribeGroupsRequest_v1,
    DescribeGroupsRequest_v2,
)
from aiokafka.protocol.api import Request

from lag.model import GroupOffsets, Member, PartitionOffsets, Snapshot

TIMESTAMP_TIMEOUT_SECONDS = 2.0
# Timestamps of records at an offset never change: remember a few thousand of them, so a
# stopped group (the same committed offset every sample) costs no fetch after the first.
_TIMESTAMP_CACHE_SIZE = 4096


def select_groups(listed: Iterable[str], prefix: str, extra: Sequence[str]) -> list[str]:
    """The pipeline's groups: names that start with the worker group, plus any named."""
    chosen = {name for name in listed if prefix and name.startswith(prefix)}
    return sorted(chosen | set(extra))


def decode_members(raw_members: Sequence[dict[str, Any]]) -> tuple[Member, ...]:
    members = []
    for raw in raw_members:
        assignment: tuple[tuple[str, int], ...] = ()
        if raw["member_assignment"]:
            decoded = ConsumerProtocolMemberAssignment.decode(raw["member_assignment"])
            assignment = tuple(sorted((tp.topic, tp.partition) for tp in decoded.partitions()))
        members.append(Member(raw["member_id"], raw["client_id"], raw["client_host"], assignment))
    return tuple(sorted(members, key=lambda m: m.member_id))


_DescribeGroupsUpToV2 = (
    DescribeGroupsRequest_v0 | DescribeGroupsRequest_v1 | DescribeGroupsRequest_v2
)


class _DescribeGroups(Request[_DescribeGroupsUpToV2]):  # type: ignore[misc]  # aiokafka is untyped
    """DescribeGroups at most v2: aiokafka 0.14 reads v3 answers with the v2 schema (without
    `authorized_operations`) and fails on every broker since Kafka 2.3. v2 has all we read."""

    API_KEY = 15

    def __init__(self, groups: list[str]) -> None:
        self._groups = groups

    def build(self, request_struct_class: Any) -> Any:
        return request_struct_class(self._groups)


class LagReader:
    def __init__(self, bootstrap_servers: str, *, timeout_seconds: float = 5.0) -> None:
        self._bootstrap = bootstrap_servers
        self._timeout = timeout_seconds
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._timestamps: dict[tuple[str, int, int], float] = {}

    async def start(self) -> None:
        timeout_ms = int(self._timeout * 1000)
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self._bootstrap, request_timeout_ms=timeout_ms
        )
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            request_timeout_ms=timeout_ms,
            fetch_max_wait_ms=100,
            max_partition_fetch_bytes=64 * 1024,
        )
        try:
            await admin.start()
            await consumer.start()
        except BaseException:
            await admin.close()
            await consumer.stop()
            raise
        self._admin, self._consumer = admin, consumer

    async def close(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
        if self._admin is not None:
            await self._admin.close()
        self._admin = self._consumer = None

    async def list_groups(self, prefix: str, extra: Sequence[str] = ()) -> list[str]:
        listed = [group[0] for group in await self._require_admin().list_consumer_groups()]
        return select_groups(listed, prefix, extra)

    async def snapshot(self, groups: Sequence[str]) -> Snapshot:
        """Members, committed offsets and log ends of these groups, read now.

        Offsets a group still holds for a deleted topic are left out: that topic has no log
        end to compare with (and asking for one would only time out).
        """
        described = await self._describe(groups)
        existing = await self._require_consumer().topics()
        held: dict[str, set[TopicPartition]] = {}
        committed: dict[str, dict[TopicPartition, int]] = {}
        for group in groups:
            offsets = await self._committed(group)
            committed[group] = {tp: o for tp, o in offsets.items() if tp.topic in existing}
            assigned = {TopicPartition(*a) for m in described[group][1] for a in m.assignment}
            held[group] = set(committed[group]) | {tp for tp in assigned if tp.topic in existing}
        now = time.time()
        wanted = sorted(set().union(*held.values())) if held else []
        self._track(wanted, replace=True)
        ends = await self._require_consumer().end_offsets(wanted) if wanted else {}
        stamps = await self.timestamps(
            (tp, offset)
            for offsets in committed.values()
            for tp, offset in offsets.items()
            if ends.get(tp, 0) > offset
        )
        result = []
        for group in groups:
            state, members = described[group]
            partitions = tuple(
                PartitionOffsets(
                    tp.topic,
                    tp.partition,
                    committed[group].get(tp),
                    ends.get(tp, 0),
                    stamps.get((tp, committed[group][tp])) if tp in committed[group] else None,
                )
                for tp in sorted(held[group])
            )
            result.append(GroupOffsets(group, state, members, partitions))
        return Snapshot(now, tuple(result))

    async def timestamps(
        self, wanted: Iterable[tuple[TopicPartition, int]]
    ) -> dict[tuple[TopicPartition, int], float]:
        """Timestamp (Unix seconds) of the record at each (partition, offset), or of the first
        record after it (compaction, retention); missing if none arrives within the timeout."""
        found: dict[tuple[TopicPartition, int], float] = {}
        to_fetch: dict[TopicPartition, int] = {}
        for tp, offset in wanted:
            cached = self._timestamps.get((tp.topic, tp.partition, offset))
            if cached is not None:
                found[(tp, offset)] = cached
            else:
                to_fetch[tp] = offset
        if to_fetch:
            for tp, stamp in (await self._fetch_first(to_fetch)).items():
                found[(tp, to_fetch[tp])] = stamp
                self._remember(tp, to_fetch[tp], stamp)
        return found

    def _track(self, partitions: Iterable[TopicPartition], *, replace: bool = False) -> None:
        """Assign the partitions, paused: aiokafka keeps metadata (leaders, needed for log
        ends) only for assigned topics, and a paused partition fetches nothing by itself."""
        consumer = self._require_consumer()
        wanted = set(partitions) if replace else set(partitions) | consumer.assignment()
        if wanted != consumer.assignment():
            consumer.assign(sorted(wanted))
        if wanted:
            consumer.pause(*wanted)

    async def _fetch_first(self, offsets: dict[TopicPartition, int]) -> dict[TopicPartition, float]:
        consumer = self._require_consumer()
        self._track(offsets)
        for tp, offset in offsets.items():
            consumer.seek(tp, offset)
        consumer.resume(*offsets)
        stamps: dict[TopicPartition, float] = {}
        deadline = time.monotonic() + TIMESTAMP_TIMEOUT_SECONDS
        try:
            while len(stamps) < len(offsets) and time.monotonic() < deadline:
                remaining_ms = max(1, int((deadline - time.monotonic()) * 1000))
                batch = await consumer.getmany(*offsets, timeout_ms=min(remaining_ms, 500))
                for tp, records in batch.items():
                    if records and tp not in stamps:
                        stamps[tp] = records[0].timestamp / 1000
                        consumer.pause(tp)
        finally:
            consumer.pause(*offsets)
        return stamps

    def _remember(self, tp: TopicPartition, offset: int, stamp: float) -> None:
        if len(self._timestamps) >= _TIMESTAMP_CACHE_SIZE:
            self._timestamps.clear()
        self._timestamps[(tp.topic, tp.partition, offset)] = stamp

    async def _describe(self, groups: Sequence[str]) -> dict[str, tuple[str, tuple[Member, ...]]]:
        """State and members per group; a group the coordinator does not know is Dead."""
        described: dict[str, tuple[str, tuple[Member, ...]]] = {g: ("Dead", ()) for g in groups}
        admin = self._require_admin()
        for group in groups:
            coordinator = await admin.find_coordinator(group)
            # aiokafka's own describe_consumer_groups fails on Kafka >= 2.3 (see above).
            response = await admin._send_request(_DescribeGroups([group]), coordinator)
            for raw in response.to_object()["groups"]:
                if raw["error_code"] == 0 and raw["group"] in described:
                    members = decode_members(raw["members"])
                    described[raw["group"]] = (raw["state"], members)
        return described

    async def _committed(self, group: str) -> dict[TopicPartition, int]:
        offsets = await self._require_admin().list_consumer_group_offsets(group)
        return {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}

    def _require_admin(self) -> AIOKafkaAdminClient:
        if self._admin is None:
            raise RuntimeError("LagReader.start() was not awaited")
        return self._admin

    def _require_consumer(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise RuntimeError("LagReader.start() was not awaited")
        return self._consumer


async def read_once(
    bootstrap_servers: str, prefix: str, extra: Sequence[str] = (), *, only: Sequence[str] = ()
) -> Snapshot:
    """One snapshot of the pipeline's groups (or only the named ones), then disconnect."""
    reader = LagReader(bootstrap_servers)
    await reader.start()
    try:
        groups = list(only) or await reader.list_groups(prefix, extra)
        return await reader.snapshot(groups)
    finally:
        await reader.close()
