"""Deployment files agree with the code: compose, Dockerfile, .env.example, Prometheus."""

from __future__ import annotations

import json
import re
import secrets
import shlex
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from switchboard.cli import ConfigurationError, load_settings, parser
from switchboard.settings import Settings
from switchboard.stack.config import KAFKA_VERSION

ROOT = Path(__file__).parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
KAFKA_POM = ROOT / "deploy" / "kafka" / "pom.xml"
PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus.yml"
README = ROOT / "README.md"

SETTINGS_VARIABLES = frozenset(name.upper() for name in Settings.model_fields)
INGEST_PORT = Settings.model_fields["switchboard_ingest_port"].default
OUR_SERVICES = {"migrate", "topics", "ingest", "worker"}
# What production demands with every provider enabled (the defaults, not this shell's env).
PRODUCTION_SECRETS = sorted(Settings.model_construct().secrets_required())

# The subset of Compose's interpolation syntax: $$, $VAR, ${VAR}, ${VAR:-default},
# ${VAR-default}, ${VAR:?message}, ${VAR?message}.
_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
    r"|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})"
)


class MissingVariableError(Exception):
    """Compose would refuse to start: a required variable is unset or empty."""


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """Substitute variables the way `docker compose` does for the forms used here."""

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        if match["bare"]:
            return variables.get(match["bare"], "")
        name, op, arg = match["name"], match["op"], match["arg"] or ""
        present = name in variables
        value = variables.get(name, "")
        if op is None:
            return value
        unset = not value if op.startswith(":") else not present
        if op.endswith("?") and unset:
            raise MissingVariableError(f"{name}: {arg}")
        if op.endswith("-") and unset:
            return arg
        return value

    return _INTERPOLATION.sub(substitute, value)


def interpolated_variables(value: str) -> dict[str, str]:
    """Variable names in a value, each with its operator ('' for none)."""
    found = {}
    for match in _INTERPOLATION.finditer(value):
        if match["name"]:
            found[match["name"]] = match["op"] or ""
        elif match["bare"]:
            found[match["bare"]] = ""
    return found


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _is_ours(service: Mapping[str, Any]) -> bool:
    build = service.get("build")
    context = build.get("context") if isinstance(build, dict) else build
    image = str(service.get("image", ""))
    return context in {".", "./"} or image.split(":", maxsplit=1)[0] == "switchboard"


@pytest.fixture(scope="module")
def our_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in compose["services"].items() if _is_ours(svc)}


def _environment(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in env)
        return {key: value for key, value in pairs}
    return {key: "" if value is None else str(value) for key, value in env.items()}


def _command(service: Mapping[str, Any]) -> list[str]:
    command = service.get("command")
    if command is None:
        return []
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


def _ingest_environment(compose: dict[str, Any]) -> dict[str, str]:
    return _environment(compose["services"]["ingest"])


def _required_by_compose(environment: Mapping[str, str]) -> set[str]:
    required = set()
    for value in environment.values():
        for name, op in interpolated_variables(value).items():
            if op.endswith("?"):
                required.add(name)
    return required


def _strong_values(names: set[str]) -> dict[str, str]:
    # Hex only: URL-safe inside DATABASE_URL, and never a `dev-` placeholder by chance.
    return {name: secrets.token_hex(32) for name in names}


def _use_environment(monkeypatch: pytest.MonkeyPatch, environment: Mapping[str, str]) -> None:
    """Make `environment` the whole of what Settings can see."""
    for name in SETTINGS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)


def _env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for number, line in enumerate(ENV_EXAMPLE.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, sep, value = stripped.partition("=")
        assert sep, f".env.example line {number} is neither a comment nor NAME=value"
        assert name not in values, f".env.example sets {name} twice"
        values[name] = value
    return values


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        keyword, _, arguments = full.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def _final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def test_our_services_are_the_switchboard_processes(
    our_services: dict[str, dict[str, Any]],
) -> None:
    """Compose runs migrate, topics, ingest and worker from the one image built here."""
    assert set(our_services) == OUR_SERVICES
    for name, service in our_services.items():
        assert service.get("build") == ".", name
        assert service.get("image") == "switchboard:latest", name


def test_compose_environment_names_are_settings_fields(
    our_services: dict[str, dict[str, Any]],
) -> None:
    """Every variable compose gives our processes is a Settings field, so none is ignored."""
    for name, service in our_services.items():
        unknown = set(_environment(service)) - SETTINGS_VARIABLES
        assert not unknown, f"{name} is given variables Settings does not read: {unknown}"


def test_our_services_share_one_environment(our_services: dict[str, dict[str, Any]]) -> None:
    """All of our processes see the same configuration, in production mode."""
    environments = [_environment(service) for service in our_services.values()]
    assert all(env == environments[0] for env in environments)
    assert environments[0]["SWITCHBOARD_ENV"] == "production"
    assert environments[0]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"


def test_compose_commands_are_switchboard_subcommands(
    our_services: dict[str, dict[str, Any]],
) -> None:
    """Each service's command is one the `switchboard` CLI accepts."""
    expected = {
        "migrate": ["migrate"],
        "topics": ["topics", "apply"],
        "ingest": ["ingest"],
        "worker": ["worker"],
    }
    for name, service in our_services.items():
        command = _command(service)
        assert command == expected[name], name
        try:
            args = parser().parse_args(command)
        except SystemExit:
            pytest.fail(f"{name}: `switchboard {shlex.join(command)}` is not a valid command")
        assert args.command == command[0]


def test_start_up_order(compose: dict[str, Any]) -> None:
    """Ingest and the worker wait for the topics and the migrations (ingest claims data keys
    in PostgreSQL), each to succeed."""
    services = compose["services"]
    done = "service_completed_successfully"
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["topics"]["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    for name in ("ingest", "worker"):
        assert services[name]["depends_on"] == {
            "migrate": {"condition": done},
            "topics": {"condition": done},
        }
    for name in ("kafka", "postgres"):
        assert services[name]["healthcheck"]["test"], name


def test_kafka_image_matches_the_local_stack_version(compose: dict[str, Any]) -> None:
    """Compose runs the official apache/kafka image at the version the local stack fetches."""
    pom = ET.parse(KAFKA_POM).getroot()  # noqa: S314 - our own file
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    properties = {
        child.tag.split("}", 1)[1]: (child.text or "").strip()
        for child in pom.findall("m:properties/*", ns)
    }
    properties["project.version"] = pom.findtext("m:version", default="", namespaces=ns)
    versions = [
        dependency.findtext("m:version", default="", namespaces=ns).strip()
        for dependency in pom.findall("m:dependencies/m:dependency", ns)
        if dependency.findtext("m:artifactId", namespaces=ns) == "kafka_2.13"
    ]
    assert len(versions) == 1, "deploy/kafka/pom.xml should depend on kafka_2.13 once"
    version = re.sub(r"\$\{([^}]+)\}", lambda m: properties[m[1]], versions[0])

    kafka = compose["services"]["kafka"]
    image, _, tag = kafka["image"].partition(":")
    assert image == "apache/kafka"
    assert tag == version
    assert version == KAFKA_VERSION, "switchboard/stack/config.py caches jars by this version"
    environment = _environment(kafka)
    assert environment["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert environment["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "kafka-broker-api-versions.sh" in " ".join(kafka["healthcheck"]["test"])


def test_compose_production_environment_builds_valid_settings(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every required variable set to a long random value, production settings load."""
    raw = _ingest_environment(compose)
    variables = _strong_values(_required_by_compose(raw))
    environment = {name: interpolate(value, variables) for name, value in raw.items()}
    _use_environment(monkeypatch, environment)

    settings = load_settings()

    assert settings.is_production
    password = variables["POSTGRES_PASSWORD"]
    assert settings.database_url.get_secret_value() == (
        f"postgresql://switchboard:{password}@postgres:5432/switchboard"
    )
    assert settings.sentry_dsn is None or not settings.sentry_dsn.get_secret_value()


def test_compose_demands_every_production_secret(compose: dict[str, Any]) -> None:
    """Compose requires exactly the secrets production needs, plus the database password."""
    required = _required_by_compose(_ingest_environment(compose))
    assert required == {*PRODUCTION_SECRETS, "POSTGRES_PASSWORD"}
    postgres = _environment(compose["services"]["postgres"])
    assert _required_by_compose(postgres) == {"POSTGRES_PASSWORD"}


@pytest.mark.parametrize("missing", PRODUCTION_SECRETS)
def test_compose_refuses_to_start_without_a_secret(compose: dict[str, Any], missing: str) -> None:
    """Leaving one secret unset stops compose, with an error naming that variable."""
    raw = _ingest_environment(compose)
    variables = _strong_values(_required_by_compose(raw) - {missing})
    joined = "\n".join(raw.values())
    with pytest.raises(MissingVariableError, match=missing):
        interpolate(joined, variables)


@pytest.mark.parametrize("missing", PRODUCTION_SECRETS)
def test_production_settings_refuse_a_missing_secret(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    """A production process started without one secret fails, naming it and no secret value."""
    raw = _ingest_environment(compose)
    variables = _strong_values(_required_by_compose(raw))
    environment = {
        name: interpolate(value, variables) for name, value in raw.items() if name != missing
    }
    _use_environment(monkeypatch, environment)

    with pytest.raises(ConfigurationError) as refused:
        load_settings()

    message = str(refused.value.code)
    assert missing in message
    for value in variables.values():
        assert value not in message


def test_env_example_lists_exactly_the_settings_fields() -> None:
    """.env.example documents every setting, and nothing Settings would not read."""
    listed = set(_env_example())
    assert not SETTINGS_VARIABLES - listed, f"missing: {sorted(SETTINGS_VARIABLES - listed)}"
    assert not listed - SETTINGS_VARIABLES, f"unknown: {sorted(listed - SETTINGS_VARIABLES)}"


def test_env_example_comments_every_setting() -> None:
    """Each variable in .env.example sits under a comment that states its default."""
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if line.strip() and not line.startswith("#"):
            comment = lines[number - 1]
            assert comment.startswith("#"), f"{line.split('=')[0]} has no comment"
            assert "default" in comment, f"{line.split('=')[0]} does not state its default"


def test_env_example_values_parse_but_are_refused_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every example value is well-formed, and its secrets are placeholders production refuses."""
    example = _env_example()
    _use_environment(monkeypatch, {**example, "SWITCHBOARD_ENV": "development"})
    assert not load_settings().is_production

    _use_environment(monkeypatch, {**example, "SWITCHBOARD_ENV": "production"})
    with pytest.raises(ConfigurationError, match="placeholder"):
        load_settings()


def test_dockerfile_runs_switchboard_on_the_ingest_port() -> None:
    """The image's entrypoint is `switchboard`, it exposes the default ingest port, not as root."""
    stage = _final_stage(_dockerfile_instructions())
    entrypoints = [arguments for keyword, arguments in stage if keyword == "ENTRYPOINT"]
    assert entrypoints, "the final stage has no ENTRYPOINT"
    assert json.loads(entrypoints[-1]) == ["switchboard"]
    commands = [arguments for keyword, arguments in stage if keyword == "CMD"]
    assert json.loads(commands[-1]) == ["ingest"]

    exposed = {
        port.split("/")[0]
        for keyword, arguments in stage
        if keyword == "EXPOSE"
        for port in arguments.split()
    }
    assert str(INGEST_PORT) in exposed

    users = [arguments for keyword, arguments in stage if keyword == "USER"]
    assert users, "the final stage runs as root"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_ingest_is_published_and_scraped_on_its_port(compose: dict[str, Any]) -> None:
    """Compose publishes the ingest port and Prometheus scrapes /metrics there."""
    ports = [str(port) for port in compose["services"]["ingest"]["ports"]]
    assert f"{INGEST_PORT}:{INGEST_PORT}" in ports

    prometheus = compose["services"]["prometheus"]
    assert any("deploy/prometheus/prometheus.yml" in str(v) for v in prometheus["volumes"])
    config = yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))
    targets = [
        (job.get("metrics_path", "/metrics"), target)
        for job in config["scrape_configs"]
        for group in job["static_configs"]
        for target in group["targets"]
    ]
    assert ("/metrics", f"ingest:{INGEST_PORT}") in targets


def test_readme_explains_docker_compose_up() -> None:
    """A README that talks about docker compose shows the `docker compose up` command."""
    if not README.exists():
        pytest.skip("no README.md")
    text = README.read_text(encoding="utf-8")
    if "docker compose" not in text.lower() and "docker-compose" not in text.lower():
        pytest.skip("README.md does not mention docker compose")
    assert "docker compose up" in text
