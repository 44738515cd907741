"""Which database failures are retried: the server's and the connection's, not the data's."""

from __future__ import annotations

import asyncpg
import pytest

from sinks.postgres.errors import is_transient, is_transient_sqlstate


@pytest.mark.parametrize("sqlstate", ["08006", "40001", "40P01", "53300", "57P01", "57014"])
def test_server_and_connection_states_are_transient(sqlstate: str) -> None:
    """Connection loss, deadlocks, overload and shutdowns are worth retrying."""
    assert is_transient_sqlstate(sqlstate)


@pytest.mark.parametrize("sqlstate", ["22001", "23505", "42P01", None])
def test_data_errors_are_not_transient(sqlstate: str | None) -> None:
    """Bad data or a missing table will not fix itself."""
    assert not is_transient_sqlstate(sqlstate)


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (asyncpg.SerializationError(), True),
        (asyncpg.DeadlockDetectedError(), True),
        (asyncpg.TooManyConnectionsError(), True),
        (asyncpg.AdminShutdownError(), True),
        (asyncpg.UniqueViolationError(), False),
        (asyncpg.UndefinedTableError(), False),
        (asyncpg.InterfaceError("connection closed"), True),
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        (OSError(), True),
        (ValueError(), False),
        (KeyError(), False),
    ],
)
def test_exceptions_are_judged_by_type_and_sqlstate(exc: BaseException, transient: bool) -> None:
    assert is_transient(exc) is transient
