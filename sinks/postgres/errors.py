"""Which PostgreSQL failures are worth retrying: the server's or the connection's, not the
data's. Judged by SQLSTATE class and exception type, never by the message."""

from __future__ import annotations

import asyncpg

# SQLSTATE classes that describe the server or the connection, not the data:
# connection exception, transaction rollback (deadlock, serialization), insufficient
# resources, operator intervention (shutdown, cancelled), system error.
_TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})


def is_transient_sqlstate(sqlstate: str | None) -> bool:
    return sqlstate is not None and sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES


def is_transient(exc: BaseException) -> bool:
    """A failure of PostgreSQL or of the way to it, which may pass on its own."""
    if isinstance(exc, asyncpg.PostgresError):
        return is_transient_sqlstate(exc.sqlstate)
    return isinstance(exc, OSError | TimeoutError | asyncpg.InterfaceError | ConnectionError)
