"""Apply numbered SQL files once each, in order, safely when several processes start at once.

A session-level advisory lock serialises runners; each file runs in its own transaction
together with its row in ``schema_migrations``, so a failed file leaves nothing behind
and is retried on the next run. A file that changed after it was applied is an error:
migrations are append-only.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

# Any constant works; it only has to be the same in every runner.
_LOCK_ID = 0x5357_4254_4D49_4752  # "SWBTMIGR"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationError(Exception):
    pass


def discover(files: dict[str, str]) -> list[Migration]:
    """Order migration files by their number; refuse gaps, duplicates and stray names."""
    migrations = []
    for filename, sql in files.items():
        match = _NAME.match(filename)
        if match is None:
            raise MigrationError(f"{filename}: migration files are named NNNN_name.sql")
        migrations.append(Migration(int(match[1]), match[2], sql))
    migrations.sort(key=lambda m: m.version)
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"expected migration {expected:04d}, found {migration.version:04d}"
            )
    return migrations


def packaged() -> list[Migration]:
    folder = resources.files("migrations")
    files = {f.name: f.read_text() for f in folder.iterdir() if f.name.endswith(".sql")}
    return discover(files)


async def migrate(dsn: str, migrations: list[Migration] | None = None) -> list[Migration]:
    """Apply what is pending; return what this call applied."""
    todo = packaged() if migrations is None else migrations
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", _LOCK_ID)
        try:
            return await _apply_pending(connection, todo)
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", _LOCK_ID)
    finally:
        await connection.close()


async def _apply_pending(
    connection: asyncpg.Connection, migrations: list[Migration]
) -> list[Migration]:
    await connection.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version     integer PRIMARY KEY,
            name        text        NOT NULL,
            checksum    text        NOT NULL,
            applied_at  timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    rows = await connection.fetch("SELECT version, checksum FROM schema_migrations")
    applied = {row["version"]: row["checksum"] for row in rows}
    done = []
    for migration in migrations:
        if migration.version in applied:
            if applied[migration.version] != migration.checksum:
                raise MigrationError(
                    f"migration {migration.version:04d}_{migration.name} changed after it was "
                    "applied; add a new migration instead"
                )
            continue
        async with connection.transaction():
            await connection.execute(migration.sql)
            await connection.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                migration.version,
                migration.name,
                migration.checksum,
            )
        done.append(migration)
    return done
