"""The Faust application, configured from our Settings and nothing else.

faust-streaming parses its own environment variables unreliably, so every option it
needs is passed here explicitly.
"""

from __future__ import annotations

import faust

from streams.faust_fixes import refuse_stale_acks, trust_catalogue_partitions
from switchboard.settings import Settings


def broker_urls(bootstrap_servers: str) -> list[str]:
    servers = [server.strip() for server in bootstrap_servers.split(",")]
    return [f"kafka://{server}" for server in servers if server]


def create_app(settings: Settings) -> faust.App:
    refuse_stale_acks()
    trust_catalogue_partitions()
    return faust.App(
        settings.switchboard_worker_group,
        broker=broker_urls(settings.kafka_bootstrap_servers),
        store="memory://",
        datadir=str(settings.switchboard_worker_data_dir),
        autodiscover=False,
        topic_replication_factor=settings.switchboard_kafka_replication_factor,
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
        # A killed worker's partitions move to the others after the session timeout, so keep
        # it short; heartbeats come from a background thread, not from record processing,
        # which is bounded by the much longer max poll interval instead.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=2.0,
        # The web server would expose table contents; health and metrics are served apart.
        web_enabled=False,
        debug=False,
    )
