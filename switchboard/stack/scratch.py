"""Scratch databases on the stack's PostgreSQL server: created and migrated for one test
session, test or benchmark run, and dropped afterwards."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from migrations.runner import migrate
from sinks.postgres.knowledge import load_directory
from sinks.postgres.pool import Database, PoolConfig

KNOWLEDGE_BASE = Path(__file__).resolve().parents[2] / "kb"


async def create_database(server_url: str, name: str, *, knowledge_base: bool = True) -> str:
    """A fresh, migrated database on the server of ``server_url``, with the sample knowledge
    base unless told otherwise; its url."""
    admin = await asyncpg.connect(server_url)
    try:
        # CREATE DATABASE takes no parameters; the name is the caller's own, never input.
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = server_url.rsplit("/", 1)[0] + f"/{name}"
    await migrate(url)
    if knowledge_base:
        database = await Database.connect(PoolConfig(url, size=1, max_overflow=0))
        try:
            await load_directory(database, KNOWLEDGE_BASE)
        finally:
            await database.close()
    return url


async def drop_database(server_url: str, url: str) -> None:
    """Drop the database of ``url`` (made by `create_database`), its sessions closed."""
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await admin.close()
