"""The local stack's pure parts: rendered config files, the folder layout and the state file."""

from __future__ import annotations

import base64
import io
import shlex
import string
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from switchboard.settings import Settings
from switchboard.stack import run_cli
from switchboard.stack.config import (
    KAFKA,
    KAFKA_VERSION,
    POSTGRES,
    ComponentState,
    StackPaths,
    StackState,
    dump_state,
    export_lines,
    generate_cluster_id,
    local_database_url,
    parse_state,
    render_log4j2_config,
    render_server_properties,
    render_stack_env,
)


def _properties(text: str) -> dict[str, str]:
    pairs = [line.split("=", 1) for line in text.splitlines() if not line.startswith("#")]
    assert all(len(pair) == 2 for pair in pairs)
    assert len({key for key, _ in pairs}) == len(pairs), "a key is set twice"
    return {key: value for key, value in pairs}


def _rendered() -> dict[str, str]:
    return _properties(
        render_server_properties(
            kafka_port=19092, controller_port=19093, log_dir=Path("/stack/kafka-data")
        )
    )


def test_server_properties_describe_a_combined_kraft_node_on_loopback() -> None:
    """One node is broker and controller, votes for itself and listens on 127.0.0.1 only."""
    props = _rendered()
    assert props["process.roles"] == "broker,controller"
    assert props["node.id"] == "1"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["controller.listener.names"] == "CONTROLLER"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert props["log.dirs"] == "/stack/kafka-data"


def test_server_properties_fit_a_single_broker() -> None:
    """Internal topics ask for one replica, groups start at once and topics are never implicit."""
    props = _rendered()
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "min.insync.replicas",
    ):
        assert props[key] == "1", key
    assert props["group.initial.rebalance.delay.ms"] == "0"
    assert props["auto.create.topics.enable"] == "false"


def test_log4j2_config_is_well_formed_and_logs_to_stdout() -> None:
    """The Log4j 2 config parses as XML and routes the root logger to the console."""
    root = ET.fromstring(render_log4j2_config().split("\n", 1)[1])  # noqa: S314 - our own text
    assert root.find("./Appenders/Console[@target='SYSTEM_OUT']") is not None
    assert root.find("./Loggers/Root[@level='info']") is not None


def test_cluster_ids_look_like_kafkas_own() -> None:
    """Cluster ids are 16 random bytes in unpadded base64url and never start with a dash."""
    alphabet = set(string.ascii_letters + string.digits + "-_")
    ids = {generate_cluster_id() for _ in range(200)}
    assert len(ids) == 200
    for cluster_id in ids:
        assert len(cluster_id) == 22
        assert set(cluster_id) <= alphabet
        assert not cluster_id.startswith("-")
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def test_jar_cache_holds_nothing_but_jars() -> None:
    """Broker config and data live outside `kafka/`, so a symlinked jar cache stays shareable."""
    paths = StackPaths(root=Path("/stack"))
    assert paths.kafka_libs == Path("/stack/kafka") / KAFKA_VERSION / "libs"
    for own in (paths.kafka_config, paths.kafka_data, paths.postgres_data, paths.logs):
        assert not own.is_relative_to(Path("/stack/kafka"))


def _state() -> StackState:
    kafka = ComponentState(
        pid=4321, port=9092, started_at=1700000000.25, extra_ports={"controller": 9093}
    )
    postgres = ComponentState(pid=4400, port=5432, started_at=1700000003.0)
    return StackState().with_component(KAFKA, kafka).with_component(POSTGRES, postgres)


def test_state_survives_a_round_trip() -> None:
    """What `dump_state` writes, `parse_state` reads back unchanged."""
    assert parse_state(dump_state(_state())) == _state()


def test_state_updates_return_new_values() -> None:
    """Adding or removing a component leaves the original state as it was."""
    state = _state()
    smaller = state.without(KAFKA)
    assert smaller.get(KAFKA) is None
    assert state.get(KAFKA) is not None
    assert smaller.get(POSTGRES) == state.get(POSTGRES)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        '{"version": 2, "components": {}}',
        '{"version": 1}',
        '{"version": 1, "components": {"zookeeper": {}}}',
        '{"version": 1, "components": {"kafka": {"pid": true, "port": 9092, "started_at": 1}}}',
        '{"version": 1, "components": {"kafka": {"pid": -5, "port": 9092, "started_at": 1}}}',
        '{"version": 1, "components": {"kafka": {"pid": 5, "port": 70000, "started_at": 1}}}',
        '{"version": 1, "components": {"kafka": {"pid": 5, "port": 9092, "started_at": "x"}}}',
        '{"version": 1, "components": {"kafka": '
        '{"pid": 5, "port": 9092, "started_at": 1, "extra_ports": {"c": "9093"}}}}',
    ],
)
def test_foreign_state_files_are_refused(text: str) -> None:
    """A state file this version did not write raises ValueError instead of being half-trusted."""
    with pytest.raises(ValueError, match=r".+"):
        parse_state(text)


def test_stack_env_and_exports_carry_both_endpoints() -> None:
    """stack.env holds plain assignments; the export lines quote values for the shell."""
    url = "postgresql://app:p&ss word@db:5432/switchboard"
    env = render_stack_env(kafka_bootstrap_servers="127.0.0.1:9092", database_url=url)
    assert "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092\n" in env
    assert f"DATABASE_URL={url}\n" in env
    exports = export_lines(kafka_bootstrap_servers="127.0.0.1:9092", database_url=url)
    assert [shlex.split(line) for line in exports] == [
        ["export", "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092"],
        ["export", f"DATABASE_URL={url}"],
    ]


def test_local_database_url_names_the_switchboard_database() -> None:
    """The local database is `switchboard`, owned by `postgres`, on loopback."""
    assert local_database_url(15432) == "postgresql://postgres@127.0.0.1:15432/switchboard"


def test_unknown_cli_action_is_a_usage_error() -> None:
    """`switchboard stack restart` exits with status 2 and says which actions exist."""
    out, err = io.StringIO(), io.StringIO()
    assert run_cli("restart", Settings(), {}, out=out, err=err) == 2
    assert "up, down or status" in err.getvalue()
    assert out.getvalue() == ""
