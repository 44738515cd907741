"""The process-wide consent view: newer revisions win, tombstones forget, readers wait."""

from __future__ import annotations

import asyncio
import json

import pytest

from streams.consent.state import ConsentState, dump
from streams.consent.view import ConsentView, table_key


def _state(revision: int) -> ConsentState:
    return ConsentState(revision=revision)


def test_an_older_revision_never_replaces_a_newer_one() -> None:
    """Whichever path delivers first, the newest revision stays."""
    view = ConsentView()
    view.put("ct_1", _state(3))
    view.put("ct_1", _state(2))
    assert view.get("ct_1").revision == 3
    view.put("ct_1", _state(4))
    assert view.get("ct_1").revision == 4


def test_changelog_records_update_and_tombstones_forget() -> None:
    """A JSON record sets the contact's state; a tombstone removes it."""
    view = ConsentView()
    view.apply_record(json.dumps("ct_1").encode(), json.dumps(dump(_state(1))).encode())
    assert view.get("ct_1").revision == 1
    view.apply_record(json.dumps("ct_1").encode(), None)
    assert view.get("ct_1") == ConsentState()
    assert len(view) == 0


def test_unreadable_records_are_skipped() -> None:
    """A value that is not a consent state changes nothing and raises nothing."""
    view = ConsentView()
    view.apply_record(b'"ct_1"', b"not json")
    view.apply_record(None, b"{}")
    assert len(view) == 0


def test_table_keys_are_json_strings_or_raw() -> None:
    """Faust writes JSON keys; raw UTF-8 keys are read too."""
    assert table_key(b'"ct_1"') == "ct_1"
    assert table_key(b"ct_1") == "ct_1"
    assert table_key(b"1") is None
    assert table_key(None) is None


async def test_readers_wait_until_the_view_caught_up() -> None:
    """current() does not answer before the follower has read the changelog."""
    view = ConsentView()
    reader = asyncio.ensure_future(view.current("ct_1"))
    await asyncio.sleep(0.01)
    assert not reader.done()
    view.put("ct_1", _state(5))
    view.ready.set()
    assert (await reader).revision == 5


@pytest.mark.parametrize("revision", [0, 1])
def test_forget_removes_whatever_is_there(revision: int) -> None:
    """Erasure forgets the contact at once."""
    view = ConsentView()
    view.put("ct_1", _state(revision))
    view.forget("ct_1")
    view.forget("ct_2")
    assert len(view) == 0
