"""Anonymising a Chatwoot contact, against the Chatwoot stand-in over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sinks.chatwoot.contacts import ChatwootContactError, ChatwootContacts
from switchboard.standins import StandInURLs, Tokens, run_standins

BOT, ADMIN = "bot-token", "admin-token"


@pytest.fixture(scope="module")
def standins() -> Iterator[StandInURLs]:
    with run_standins(tokens=Tokens(chatwoot=BOT, chatwoot_admin=ADMIN)) as urls:
        yield urls


@pytest.fixture
def chatwoot(standins: StandInURLs) -> str:
    httpx.post(f"{standins.chatwoot}/_standin/reset").raise_for_status()
    contact = {
        "account_id": 3,
        "id": 77,
        "name": "Rosalind Okafor",
        "email": "rosalind@example.org",
        "phone_number": "+447700900123",
        "custom_attributes": {"tier": "gold", "gdpr_deleted": False},
    }
    httpx.post(f"{standins.chatwoot}/_standin/chatwoot/contacts", json=contact).raise_for_status()
    return standins.chatwoot


def _contact(url: str) -> dict[str, Any]:
    (found,) = httpx.get(f"{url}/_standin/chatwoot/contacts").json()["contacts"]
    return dict(found)


def _requests(url: str) -> list[tuple[str, str, int]]:
    answer = httpx.get(f"{url}/_standin/requests").json()["requests"]
    return [(r["method"], r["path"].rsplit("/", 1)[-1], r["status"]) for r in answer]


def _faults(url: str, faults: object) -> None:
    httpx.post(f"{url}/_standin/faults", json=faults).raise_for_status()


def _client(url: str, http: httpx.AsyncClient, token: str | None = ADMIN) -> ChatwootContacts:
    return ChatwootContacts(http, url, token)


async def test_a_contact_is_anonymised_and_its_other_attributes_removed(chatwoot: str) -> None:
    """Read, update (merged attributes), then destroy the other custom attributes."""
    async with httpx.AsyncClient() as http:
        assert await _client(chatwoot, http).anonymise(3, 77) == "anonymised"
    contact = _contact(chatwoot)
    assert contact["name"] == "Deleted User 77"
    assert contact["email"] == "deleted_77@anonymized.local"
    assert contact["phone_number"] is None
    assert contact["custom_attributes"] == {"gdpr_deleted": True}
    assert _requests(chatwoot) == [
        ("GET", "77", 200),
        ("PUT", "77", 200),
        ("POST", "destroy_custom_attributes", 200),
    ]


async def test_a_missing_contact_is_already_gone(chatwoot: str) -> None:
    """404: nothing to anonymise, which counts as done."""
    async with httpx.AsyncClient() as http:
        assert await _client(chatwoot, http).anonymise(3, 78) == "gone"


async def test_a_failed_request_is_not_retried_within_the_call(chatwoot: str) -> None:
    """A 503 ends the call after one request, with the reason for the erasure's plan, which
    tries the target again later (the one retry); the next call goes through."""
    _faults(chatwoot, {"status": 503, "times": 1})
    async with httpx.AsyncClient() as http:
        with pytest.raises(ChatwootContactError) as raised:
            await _client(chatwoot, http).anonymise(3, 77)
        assert (raised.value.reason, raised.value.after_seconds) == ("http_503", None)
        assert _contact(chatwoot)["name"] == "Rosalind Okafor"
        assert await _client(chatwoot, http).anonymise(3, 77) == "anonymised"
    assert [s for _, _, s in _requests(chatwoot)] == [503, 200, 200, 200]


async def test_a_rate_limit_passes_on_chatwoots_retry_after(chatwoot: str) -> None:
    """429 with Retry-After: 20 is the wait the erasure's plan keeps before trying again."""
    _faults(chatwoot, {"status": 429, "retry_after": 20, "times": 1})
    async with httpx.AsyncClient() as http:
        with pytest.raises(ChatwootContactError) as raised:
            await _client(chatwoot, http).anonymise(3, 77)
    assert (raised.value.reason, raised.value.after_seconds) == ("http_429", 20.0)


async def test_the_bot_token_is_refused_for_contacts(chatwoot: str) -> None:
    """As in Chatwoot, contacts need a user token: 401 is not retried."""
    async with httpx.AsyncClient() as http:
        with pytest.raises(ChatwootContactError) as raised:
            await _client(chatwoot, http, token=BOT).anonymise(3, 77)
        assert raised.value.reason == "http_401"
        with pytest.raises(ChatwootContactError) as missing:
            await _client(chatwoot, http, token=None).anonymise(3, 77)
        assert missing.value.reason == "no_admin_token"


def test_the_stand_in_merges_attributes_on_update(chatwoot: str) -> None:
    """PUT merges custom attributes like Chatwoot; only destroy_custom_attributes removes."""
    url = f"{chatwoot}/api/v1/accounts/3/contacts/77"
    headers = {"api_access_token": ADMIN}
    body = {"name": "New", "custom_attributes": {"added": 1}}
    updated = httpx.put(url, json=body, headers=headers).json()["payload"]
    assert updated["custom_attributes"] == {"tier": "gold", "gdpr_deleted": False, "added": 1}
    assert updated["email"] == "rosalind@example.org"
    removed = httpx.post(
        f"{url}/destroy_custom_attributes", json={"custom_attributes": ["tier"]}, headers=headers
    ).json()["payload"]
    assert removed["custom_attributes"] == {"gdpr_deleted": False, "added": 1}
