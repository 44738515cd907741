"""A pipeline of its own for the erasure tests: a migrated database, topics and a consumer
group of their own, a Chatwoot stand-in whose admin token the worker holds, an export
folder, the worker as a process and ingest in-process. Its own, because the session's worker
would drive the deletions it finds in a shared database with another configuration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka.admin import AIOKafkaAdminClient
from fastapi.testclient import TestClient
from pydantic import SecretStr

from ingest.app import build_ingest, create_app
from switchboard.settings import Settings
from switchboard.stack.scratch import create_database, drop_database
from switchboard.standins import Tokens, run_standins
from tests.integration.chatwoot_chat import ACCOUNT
from tests.integration.conftest import Worker, isolated, settings_env


@dataclass
class Setup:
    settings: Settings
    worker: Worker
    chatwoot: str
    export_dir: Path
    tmp: Path
    client: TestClient
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def database_url(self) -> str:
        return self.settings.database_url.get_secret_value()


async def new_database(settings: Settings, suffix: str) -> str:
    """A migrated database of its own beside the session's, with the knowledge base loaded."""
    session_url = settings.database_url.get_secret_value()
    return await create_database(session_url, f"{session_url.rsplit('/', 1)[1]}_{suffix}")


async def delete_topics(settings: Settings, groups: list[str]) -> None:
    """Leave the shared broker as it was: the run's topics and its groups' Faust topics."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        starts = (settings.switchboard_topic_prefix, *(f"{g}-" for g in groups))
        names = [n for n in await admin.list_topics() if n.startswith(starts)]
        if names:
            await admin.delete_topics(names)
    finally:
        await admin.close()


@asynccontextmanager
async def erasure_pipeline(
    settings: Settings, tmp: Path, name: str, admin_token: str, groups: list[str]
) -> AsyncIterator[Setup]:
    """The pipeline, named ``name``; afterwards its database is dropped and its topics, with
    the Faust topics of its worker group and of ``groups`` (read when it ends), deleted."""
    export_dir = tmp / "exports"
    export_dir.mkdir(mode=0o700)
    url = await new_database(settings, name)
    try:
        with run_standins(tokens=Tokens(chatwoot_admin=admin_token)) as urls:
            own = (await isolated(settings, name)).model_copy(
                update={
                    "chatwoot_base_url": urls.chatwoot,
                    "database_url": SecretStr(url),
                    "switchboard_export_dir": export_dir,
                    "chatwoot_admin_token": SecretStr(admin_token),
                }
            )
            env = {
                **settings_env(own, tmp),
                "CHATWOOT_ADMIN_TOKEN": admin_token,
                "SWITCHBOARD_EXPORT_DIR": str(export_dir),
            }
            worker = Worker(env, tmp / "worker.log")
            worker.start()
            try:
                with TestClient(create_app(build_ingest(own))) as client:
                    yield Setup(own, worker, urls.chatwoot, export_dir, tmp, client)
            finally:
                worker.stop()
                await delete_topics(own, [own.switchboard_worker_group, *groups])
    finally:
        await drop_database(settings.database_url.get_secret_value(), url)


async def fetch(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


def seed_chatwoot(
    chatwoot: str, chatwoot_id: int, name: str, email: str, phone: str, **attributes: str
) -> None:
    """A contact in the Chatwoot stand-in, with these custom attributes and a city."""
    contact = {
        "account_id": ACCOUNT,
        "id": chatwoot_id,
        "name": name,
        "email": email,
        "phone_number": phone,
        "custom_attributes": attributes,
        "additional_attributes": {"city": "Leeds"},
    }
    httpx.post(f"{chatwoot}/_standin/chatwoot/contacts", json=contact).raise_for_status()


def chatwoot_requests(chatwoot: str) -> list[dict[str, Any]]:
    """Every request the Chatwoot stand-in has received."""
    answer = httpx.get(f"{chatwoot}/_standin/requests", timeout=5).json()
    return list(answer["requests"])
