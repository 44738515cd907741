"""Lag reports as text (`kafka-consumer-groups --describe` columns plus seconds and status)
and as JSON for scripts."""

from __future__ import annotations

from typing import Any

from lag.tracker import GroupLag, PartitionLag, Report

COLUMNS = (
    "GROUP",
    "TOPIC",
    "PARTITION",
    "CURRENT-OFFSET",
    "LOG-END-OFFSET",
    "LAG",
    "LAG-SECONDS",
    "STATUS",
    "CONSUMER-ID",
    "HOST",
    "CLIENT-ID",
)


def _dash(value: object) -> str:
    return "-" if value is None else str(value)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def row_cells(row: PartitionLag) -> tuple[str, ...]:
    return (
        row.group,
        row.topic,
        str(row.partition),
        _dash(row.committed),
        str(row.log_end),
        _dash(row.lag),
        _seconds(row.lag_seconds),
        row.status.name if row.committed is not None else "-",
        _dash(row.consumer_id),
        _dash(row.host),
        _dash(row.client_id),
    )


def group_line(group: GroupLag) -> str:
    return (
        f"Consumer group '{group.group}': {group.status.name}, state {group.state}, "
        f"{group.members} member(s), {group.assigned_partitions} assigned partition(s), "
        f"lag {group.lag} message(s), {_seconds(group.lag_seconds)} s"
    )


def render_table(report: Report) -> str:
    """One block per group: a summary line, then a padded table of its partitions."""
    blocks = []
    for group in report.groups:
        rows = [COLUMNS, *(row_cells(r) for r in group.partitions)]
        widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
        lines = [" ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
        blocks.append("\n".join([group_line(group), *(line.rstrip() for line in lines)]))
    return "\n\n".join(blocks) if blocks else "no consumer groups found"


def partition_json(row: PartitionLag) -> dict[str, Any]:
    return {
        "topic": row.topic,
        "partition": row.partition,
        "current_offset": row.committed,
        "log_end_offset": row.log_end,
        "lag": row.lag,
        "lag_seconds": row.lag_seconds,
        "status": row.status.name if row.committed is not None else None,
        "consumer_id": row.consumer_id,
        "host": row.host,
        "client_id": row.client_id,
    }


def group_json(group: GroupLag) -> dict[str, Any]:
    return {
        "group": group.group,
        "state": group.state,
        "status": group.status.name,
        "members": group.members,
        "assigned_partitions": group.assigned_partitions,
        "lag": group.lag,
        "lag_seconds": group.lag_seconds,
        "partitions": [partition_json(row) for row in group.partitions],
    }


def report_json(report: Report) -> dict[str, Any]:
    return {"time": report.time, "groups": [group_json(g) for g in report.groups]}
