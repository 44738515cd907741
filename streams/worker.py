"""The worker process: its topics checked, the Faust app assembled (`streams.bootstrap`),
and run until it is stopped."""

from __future__ import annotations

import asyncio

from schemas.catalogue import sized
from streams.bootstrap import bootstrap
from streams.runtime.app import run
from streams.topics import check_partitions
from switchboard.settings import Settings


def run_worker(settings: Settings) -> None:
    # Tables are sized from Settings, not from the broker: refuse to start on topics that
    # were made with another partition count.
    asyncio.run(
        check_partitions(
            settings.kafka_bootstrap_servers,
            settings.switchboard_topic_prefix,
            sized(settings.switchboard_topic_partitions),
        )
    )
    run(bootstrap(settings).app, loglevel=settings.switchboard_log_level.lower())
