"""The Faust application, configured from our Settings and nothing else.

faust-streaming parses its own environment variables unreliably, so every option it
needs is passed here explicitly.
"""

from __future__ import annotations

from datetime import UTC

import faust
from faust.utils import cron

from streams.runtime.faust_fixes import (
    hold_back_during_rebalance,
    hold_unhandled_heads,
    ignore_delivery_gaps,
    refuse_stale_acks,
    reread_paused_records,
    trust_catalogue_partitions,
)
from switchboard.settings import Settings

# The patches in streams/runtime/faust_fixes.py replace private methods of this release; another
# release may have changed them, so the worker refuses to start on it rather than run on
# a patched method that no longer fits.
FAUST_VERSION = "0.15.3"


class UnsupportedFaustError(RuntimeError):
    """The installed faust-streaming is not the release the worker's patches were made for."""


def check_faust_version(installed: str = faust.__version__) -> None:
    if installed != FAUST_VERSION:
        raise UnsupportedFaustError(
            f"faust-streaming {installed} is installed; the worker is built for "
            f"{FAUST_VERSION} (streams/runtime/faust_fixes.py patches its internals)"
        )


def broker_urls(bootstrap_servers: str) -> list[str]:
    servers = [server.strip() for server in bootstrap_servers.split(",")]
    return [f"kafka://{server}" for server in servers if server]


def create_app(settings: Settings) -> faust.App:
    check_faust_version()
    refuse_stale_acks()
    reread_paused_records()
    hold_unhandled_heads()
    ignore_delivery_gaps()
    hold_back_during_rebalance()
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
        # Recovery after a worker is killed (bench.recovery, target under 15 s). The
        # coordinator only rebalances a dead member's partitions once its session has
        # expired, and a restarted worker joins under a new member id, so it waits for that
        # too: the session timeout is the floor of every recovery. 6 s is the broker's
        # lowest (group.min.session.timeout.ms). Heartbeats come from Faust's consumer
        # thread, not from record processing (bounded by the max poll interval, 1,000 s),
        # so a busy worker still beats. A live member learns of a rebalance from its next
        # heartbeat's answer; 2 s is a third of the session, as Kafka advises. (Beating every
        # second made a worker that had just started see the rebalance while its agents were
        # still opening: their actors were cancelled, restarted too often, and the worker
        # exited; tests/integration/test_consent_workers.py showed it.) Each member must
        # rejoin within the rebalance timeout or is dropped; revocation waits for nothing
        # (below), so 20 s is ample and a stuck member stops holding the group up sooner
        # than Faust's 60 s. The request timeout (Faust's 90 s) must exceed both.
        broker_session_timeout=6.0,
        broker_heartbeat_interval=2.0,
        broker_rebalance_timeout=20.0,
        # Do not wait for in-flight events when partitions are revoked or the worker stops.
        # Several agents read inbound.v1 and actions.v1; Faust drops their queued events on
        # a revocation, and a record one agent already acknowledged while another's copy
        # was dropped stays unacknowledged forever: waiting for it hung the rebalance each
        # time a second worker joined under load. Offsets are committed only up to
        # acknowledged records, and every agent is idempotent (ids derived from the inbound
        # event), so what was in flight is read again by the partition's next owner.
        stream_wait_empty=False,
        # The web server would expose table contents; health and metrics are served apart.
        web_enabled=False,
        debug=False,
    )


def run(app: faust.App, *, loglevel: str) -> None:
    """Run the app as a Faust worker until it is stopped."""
    worker = faust.Worker(app, loglevel=loglevel)
    # Faust's progress spinner lowers the root logger to DEBUG, so every library builds
    # debug records that are then thrown away (~15 % of the worker's CPU).
    worker.spinner = None
    worker.execute_from_commandline()


def check_crontab(schedule: str, setting: str) -> None:
    """Raise ValueError, naming ``setting``, unless Faust's crontab can run ``schedule``:
    a malformed schedule stops the worker at start, not silently at the first tick."""
    try:
        cron.secs_for_next(schedule, UTC)
    except (ValueError, KeyError) as exc:
        raise ValueError(f"{setting} is not a valid cron expression") from exc
