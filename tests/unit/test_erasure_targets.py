"""Each erasure target against in-memory ports (and a real folder for exports)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal

import pytest

from schemas.erasure import Deletion
from schemas.events import ConversationErased, Event
from sinks.chatwoot.contacts import ChatwootContactError
from streams.erasure.plan import Done, Failed, Waiting
from streams.erasure.targets import (
    ChatwootTarget,
    ConsentTarget,
    ConversationStateTarget,
    DataKeyTarget,
    ExportsTarget,
    PostgresTarget,
)
from tests.fakes.erasure import T0, Clock

DELETION = Deletion("del_1", "ct_1", "customer_request", "api", T0, ())


class MemoryData:
    """The contact's data as the targets see it in PostgreSQL."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.conversations = {"cv_1": False, "cv_2": False}
        self.announced: dict[str, datetime] = {}
        self.paths: list[str] = []
        self.refs: list[str] = []

    async def delete_data_key_claim(self, contact_id: str) -> None:
        self.calls.append("claim")

    async def delete_consent_records(self, contact_id: str) -> int:
        self.calls.append("consent_records")
        return 2

    async def track_conversations(self, deletion_id: str, contact_id: str) -> None:
        self.calls.append("track")

    async def conversations_to_announce(self, deletion_id: str, sent_before: datetime) -> list[str]:
        return [
            k
            for k, erased in self.conversations.items()
            if not erased and (k not in self.announced or self.announced[k] < sent_before)
        ]

    async def conversations_announced(
        self, deletion_id: str, keys: Sequence[str], at: datetime
    ) -> None:
        self.announced.update(dict.fromkeys(keys, at))

    async def conversation_progress(self, deletion_id: str) -> tuple[list[str], list[str]]:
        keys = list(self.conversations)
        return keys, [k for k, erased in self.conversations.items() if erased]

    async def export_paths(self, contact_id: str) -> list[str]:
        return self.paths

    async def chatwoot_refs(self, contact_id: str) -> list[str]:
        return self.refs

    async def delete_contact_rows(self, contact_id: str) -> dict[str, int]:
        self.calls.append("rows")
        return {"messages": 3}


class Log:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def emit(self, events: Sequence[Event]) -> None:
        self.events.extend(events)


class Keys:
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    async def tombstone(self, contact_id: str) -> None:
        self.data.calls.append(f"tombstone:{contact_id}")


class Chatwoot:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.anonymised: list[tuple[int, int]] = []

    async def anonymise(self, account_id: int, contact_id: int) -> Literal["anonymised", "gone"]:
        if self.error is not None:
            raise self.error
        self.anonymised.append((account_id, contact_id))
        return "anonymised"


async def test_the_data_key_is_tombstoned_before_its_claim_goes() -> None:
    """Tombstone on data-keys.v1 first, then the claim row."""
    data = MemoryData()
    assert await DataKeyTarget(Keys(data), data).run(DELETION) == Done()
    assert data.calls == ["tombstone:ct_1", "claim"]


async def test_consent_history_and_rows_are_deleted() -> None:
    """The consent target removes consent_records; the postgres target the rest."""
    data = MemoryData()
    assert await ConsentTarget(data).run(DELETION) == Done()
    assert await PostgresTarget(data).run(DELETION) == Done()
    assert data.calls == ["consent_records", "rows"]


async def test_conversations_are_announced_once_and_awaited() -> None:
    """Each conversation gets one conversation.erased event; the target waits for the
    converse agent's reports, resends after a while, and completes when all are in."""
    data, log, clock = MemoryData(), Log(), Clock()
    target = ConversationStateTarget(data, log, clock)
    assert isinstance(await target.run(DELETION), Waiting)
    assert [(e.type, e.subject) for e in log.events] == [
        ("conversation.erased", "cv_1"),
        ("conversation.erased", "cv_2"),
    ]
    erased = log.events[0]
    assert isinstance(erased, ConversationErased)
    assert erased.data.deletion_id == "del_1"
    assert erased.data.contact_id == "ct_1"
    data.conversations["cv_1"] = True
    assert isinstance(await target.run(DELETION), Waiting)
    assert len(log.events) == 2  # not resent yet
    clock.advance(31)
    await target.run(DELETION)
    assert [e.subject for e in log.events[2:]] == ["cv_2"]
    data.conversations["cv_2"] = True
    assert await target.run(DELETION) == Done()


async def test_export_files_are_deleted_only_inside_the_export_folder(tmp_path: Path) -> None:
    """Archives under the folder go (relative or absolute paths, missing ones fine);
    a path outside it is refused."""
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "a.json").write_text("{}")
    (folder / "b.json").write_text("{}")
    data = MemoryData()
    data.paths = ["a.json", str(folder / "b.json"), "gone.json"]
    assert await ExportsTarget(data, folder).run(DELETION) == Done()
    assert list(folder.iterdir()) == []
    outside = tmp_path / "keep.txt"
    outside.write_text("x")
    data.paths = ["../keep.txt"]
    assert await ExportsTarget(data, folder).run(DELETION) == Failed(
        "export_path_outside_export_dir"
    )
    assert outside.exists()


@pytest.mark.parametrize(
    ("refs", "expected"),
    [([], []), (["3/1001"], [(3, 1001)]), (["bad", "3/7"], [(3, 7)])],
)
async def test_chatwoot_contacts_are_anonymised(
    refs: list[str], expected: list[tuple[int, int]]
) -> None:
    """Every Chatwoot identity of the contact; none is nothing to do; bad refs are skipped."""
    data, chatwoot = MemoryData(), Chatwoot()
    data.refs = refs
    assert await ChatwootTarget(data, chatwoot).run(DELETION) == Done()
    assert chatwoot.anonymised == expected


async def test_a_chatwoot_failure_fails_the_target_with_its_reason() -> None:
    """The error's reason (e.g. http_500) is what the target records."""
    data = MemoryData()
    data.refs = ["3/1001"]
    outcome = await ChatwootTarget(data, Chatwoot(ChatwootContactError("http_500"))).run(DELETION)
    assert outcome == Failed("http_500")
    limited = Chatwoot(ChatwootContactError("http_429", after_seconds=20.0))
    assert await ChatwootTarget(data, limited).run(DELETION) == Failed("http_429", 20.0)
