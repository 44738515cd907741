"""A key ring wired from Settings: Kafka for the keys, PostgreSQL for the claims."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from datakeys.claims import PostgresClaims
from datakeys.kafka import KafkaKeyLog
from datakeys.keyring import KeyRing
from schemas.catalogue import DATA_KEYS
from schemas.sealing import MasterKeys
from sinks.postgres.pool import Database
from switchboard.settings import Settings


def master_keys(settings: Settings) -> MasterKeys:
    return MasterKeys([s.get_secret_value().encode() for s in settings.switchboard_master_key])


def build_keyring(
    settings: Settings, database: Callable[[], Awaitable[Database]], *, wait_seconds: float = 5.0
) -> KeyRing:
    """``wait_seconds``: how long a caller waits for another owner's new key to appear."""
    return KeyRing(
        KafkaKeyLog(
            settings.kafka_bootstrap_servers,
            settings.switchboard_topic_prefix,
            settings.switchboard_produce_timeout_seconds,
        ),
        PostgresClaims(database, DATA_KEYS.full_name(settings.switchboard_topic_prefix)),
        master_keys(settings),
        wait_seconds=wait_seconds,
    )
