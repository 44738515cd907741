"""A worker's log, read when a test fails: what it did with one conversation, line by line.

The worker binds each event's conversation key, partition and offset to its log lines, so
the turns and deliveries of one conversation can be followed through restarts and
rebalances, next to the milestones of each (joins, recovery, seeks, commit repairs).
"""

from __future__ import annotations

import re

MILESTONES = re.compile(r"Joined group|Resuming flow|Seek stream|commit_|record_retry|rror")
_STRUCTLOG = re.compile(r"T(\d\d:\d\d:\d\d\.\d{3})\d*Z \[\w+ *\] (\S+)")
_FIELDS = re.compile(r"(\w+)=(\S+)")


def short(line: str) -> str:
    """One line: time, event, the message id's tail, partition@offset (attempt)."""
    found = _STRUCTLOG.search(line)
    if found is None:
        return line[:160]
    fields: dict[str, str] = dict(_FIELDS.findall(line))
    message = fields.get("event_id", fields.get("action_id", "")).rsplit(":", 1)[-1]
    place = f"p{fields.get('partition', '?')}@{fields.get('offset', '?')}"
    return f"{found[1]} {found[2]} {message} {place} {fields.get('attempt', '')}".rstrip()


def about(log: str, conversation_key: str, limit: int = 60) -> list[str]:
    """The last ``limit`` lines about the conversation or a milestone, shortened."""
    lines = [
        short(line)
        for line in log.splitlines()
        if conversation_key in line or MILESTONES.search(line)
    ]
    return lines[-limit:]
