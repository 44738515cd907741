"""Data requests in the chat, end to end: signed WhatsApp webhooks, a real worker, Kafka,
PostgreSQL and the Graph API stand-in the bot writes to. Customers read their codes and
links from what the stand-in received, as they would on their phones."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi.testclient import TestClient

from ingest.app import build_ingest, create_app
from ingest.testing import whatsapp_headers, whatsapp_text_body
from schemas.keys import Pseudonymizer
from streams.conversation.data_requests import reference
from switchboard.settings import Settings
from switchboard.standins import StandInURLs
from tests.data_ask_phrases import NOT_REQUESTS as TABLE_NOT_REQUESTS
from tests.integration.conftest import (
    TEST_SECRET,
    Worker,
    eventually,
    isolated,
    settings_env,
)

pytestmark = pytest.mark.integration

# Negations and questions about erasure, export and opting out, in six languages: each must
# be answered, and create no deletion, no export and no consent change. The sentences that
# used to erase people, then every negation and question of the language table.
QUOTED = (
    "Please do NOT delete my data, I want to keep my order history.",
    "don't delete my data!",
    "will you delete my data if I cancel?",
    "how do I delete my account data?",
    "What happens to my data if I close my account?",
    "How can I download my data?",
    "how do I unsubscribe?",
    "Bitte löschen Sie meine Daten NICHT",
    "Was passiert mit meinen Daten, wenn ich mein Konto kündige?",
    "No borren mis datos por favor",
    "¿Qué pasa con mis datos si cancelo?",
    "Ne supprimez pas mes données",
    "Comment puis-je supprimer mes données ?",
    "Verwijder mijn gegevens niet",
    "Hoe kan ik mijn gegevens downloaden?",
    "Não apaguem os meus dados",
    "O que acontece com meus dados se eu cancelar?",
)
NOT_REQUESTS = tuple(dict.fromkeys([*QUOTED, *TABLE_NOT_REQUESTS]))


# Drawn at random, a hundred numbers in a test sometimes gave two sentences one customer:
# counted from a random start instead, unique within the session.
PHONES = itertools.count(uuid.uuid4().int % (9 * 10**6))


@dataclass
class Chat:
    client: TestClient
    settings: Settings
    graph: str
    worker: Worker
    keys: Pseudonymizer

    def customer(self) -> str:
        """A new customer's phone number, never one handed out before in this session (the
        Graph API stand-in, which records what each number was sent, is the session's)."""
        return f"1555{next(PHONES):07d}"

    def says(self, phone: str, text: str, *, minutes_later: float = 0) -> str:
        wamid = f"wamid.chat-{uuid.uuid4().hex}"
        stamp = int(time.time() + minutes_later * 60)
        body = whatsapp_text_body(wamid=wamid, phone=phone, text=text, timestamp=stamp)
        answer = self.client.post(
            "/webhooks/whatsapp", content=body, headers=whatsapp_headers(TEST_SECRET, body)
        )
        assert answer.status_code == 200, answer.text
        return f"wa:{wamid}"

    def received(self, phone: str) -> list[str]:
        """What the bot sent this customer, in order."""
        requests = httpx.get(f"{self.graph}/_standin/requests", timeout=5).json()["requests"]
        return [
            r["json"]["text"]["body"]
            for r in requests
            if r["method"] == "POST" and (r["json"] or {}).get("to") == phone
        ]

    async def answers(self, phone: str, count: int, wait: float = 30.0) -> list[str]:
        async def probe() -> list[str] | None:
            got = self.received(phone)
            return got if len(got) >= count else None

        found = await eventually(probe, timeout=wait)
        assert found, (self.received(phone), self.worker.log()[-4000:])
        return list(found)

    async def code(self, phone: str) -> str:
        (prompt,) = await self.answers(phone, 1)
        match = re.search(r"the code (\d{6})", prompt)
        assert match, prompt
        return match.group(1)

    def contact(self, phone: str) -> str:
        return self.keys.whatsapp_contact(phone)


@pytest.fixture
async def chat(settings: Settings, standins: StandInURLs, tmp_path: Path) -> AsyncIterator[Chat]:
    own = await isolated(settings, "chat")
    own = own.model_copy(update={"switchboard_export_dir": tmp_path / "exports"})
    worker = Worker(settings_env(own, tmp_path), tmp_path / "worker.log")
    worker.start()
    keys = Pseudonymizer(own.switchboard_pseudonym_key.get_secret_value().encode())
    try:
        with TestClient(create_app(build_ingest(own))) as client:
            yield Chat(client, own, standins.graph, worker, keys)
    finally:
        worker.stop()


async def _fetch(settings: Settings, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(settings.database_url.get_secret_value())
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def _requests_of(settings: Settings, contacts: list[str]) -> dict[str, int]:
    """Deletions, exports and consent records of these contacts."""
    rows = await _fetch(
        settings,
        "SELECT (SELECT count(*) FROM gdpr_deletions WHERE contact_id = ANY($1)) AS deletions,"
        " (SELECT count(*) FROM gdpr_exports WHERE contact_id = ANY($1)) AS exports,"
        " (SELECT count(*) FROM consent_records WHERE contact_id = ANY($1)) AS consents",
        contacts,
    )
    return dict(rows[0])


async def test_negations_and_questions_are_answered_and_change_nothing(chat: Chat) -> None:
    """Each sentence gets one answer, and no deletion, export or consent change follows."""
    phones = {text: chat.customer() for text in NOT_REQUESTS}
    for text, phone in phones.items():
        chat.says(phone, text)
    for text, phone in phones.items():
        (answer,) = await chat.answers(phone, 1, wait=90)
        assert "Nothing has" in answer, (text, answer)
    # Let anything that might follow on the contacts' topic arrive before looking.
    probe = chat.customer()
    chat.says(probe, "hello")
    await chat.answers(probe, 1)
    contacts = [chat.contact(p) for p in phones.values()]
    assert await _requests_of(chat.settings, contacts) == {
        "deletions": 0,
        "exports": 0,
        "consents": 0,
    }


async def test_a_confirmed_request_erases_after_saying_so(chat: Chat) -> None:
    """'Delete my data', then the code: the customer is told the reference, then the
    contact is erased like any other, and nothing more is sent to them."""
    phone = chat.customer()
    request_id = chat.says(phone, "Please delete my personal data")
    chat.says(phone, await chat.code(phone))
    _, confirmed = await chat.answers(phone, 2)
    deletion_id = reference("erasure", request_id)
    assert deletion_id in confirmed

    async def completed() -> list[asyncpg.Record]:
        return await _fetch(
            chat.settings,
            "SELECT requested_by FROM gdpr_deletions WHERE deletion_id = $1 "
            "AND status = 'completed'",
            deletion_id,
        )

    rows = await eventually(completed, timeout=60)
    assert rows, chat.worker.log()[-4000:]
    assert rows[0]["requested_by"] == "customer-chat"
    contact = chat.contact(phone)
    left = await _fetch(
        chat.settings, "SELECT count(*) AS n FROM messages WHERE contact_id = $1", contact
    )
    assert left[0]["n"] == 0
    audit = await _fetch(
        chat.settings,
        "SELECT outcome FROM audit_log WHERE subject = $1 AND actor = 'customer-chat' "
        "ORDER BY occurred_at, id",
        contact,
    )
    assert [r["outcome"] for r in audit][:1] == ["awaiting_confirmation"]
    assert len(chat.received(phone)) == 2


async def test_unconfirmed_wrong_late_or_elsewhere_erases_nothing(chat: Chat) -> None:
    """No code, a wrong code, the code too late, the code from another conversation: each
    customer is answered, and nobody is erased."""
    silent, wrong, late, asker, other = (chat.customer() for _ in range(5))
    for phone in (silent, wrong, late, asker):
        chat.says(phone, "delete my data")
    wrong_code = f"{(int(await chat.code(wrong)) + 1) % 10**6:06d}"
    chat.says(wrong, wrong_code)
    chat.says(late, await chat.code(late), minutes_later=16)
    chat.says(other, await chat.code(asker))
    await chat.code(silent)
    assert "doesn't match" in (await chat.answers(wrong, 2))[1]
    assert "ran out" in (await chat.answers(late, 2))[1]
    await chat.answers(other, 1)
    contacts = [chat.contact(p) for p in (silent, wrong, late, asker, other)]
    assert (await _requests_of(chat.settings, contacts))["deletions"] == 0
    decided = await _fetch(
        chat.settings,
        "SELECT subject, outcome FROM audit_log WHERE actor = 'customer-chat' "
        "AND subject = ANY($1) AND outcome <> 'awaiting_confirmation'",
        contacts,
    )
    assert sorted((r["subject"], r["outcome"]) for r in decided) == sorted(
        [(chat.contact(wrong), "wrong_code"), (chat.contact(late), "expired")]
    )


async def test_a_confirmed_export_link_works_and_is_sent_once_across_a_sigkill(
    chat: Chat,
) -> None:
    """'Export my data', the code, then the link: it downloads the whole transcript. The
    worker killed right after sending it and restarted does not send it again."""
    phone = chat.customer()
    chat.says(phone, "Can I get a copy of my data?")
    chat.says(phone, await chat.code(phone))
    *_, ready = await chat.answers(phone, 3, wait=60)
    url = re.search(r"https?://\S+", ready)
    assert url, ready
    process = chat.worker.process
    assert process is not None
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    chat.worker.process = None

    path = url.group(0).split("/", 3)[3]
    download = chat.client.get(f"/{path}")
    assert download.status_code == 200, download.text
    archive = json.loads(download.content)
    (conversation,) = archive["conversations"]
    # The transcript as stored when the archive was made, the bot's side included: the
    # question, then the prompt with the code. (The code and the reply confirming it may
    # reach PostgreSQL after the archive was made: it is a snapshot.)
    messages = conversation["messages"]
    assert [m["direction"] for m in messages][:2] == ["inbound", "outbound"]
    assert "reply with the code" in messages[1]["text"]

    chat.worker.start()
    chat.says(phone, "thanks")
    answers = await chat.answers(phone, 4, wait=90)
    assert [a for a in answers if "/download?" in a] == [ready]
    assert answers[-1].startswith("You're welcome")
    assert len(chat.received(phone)) == 4
