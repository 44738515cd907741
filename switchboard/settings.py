"""The one place configuration is read: a frozen pydantic-settings class.

Build it with ``Settings()`` where a process is wired up (the CLI), never at import time.
Field names are the environment variable names, lower-cased, so that a deployment's
``.env`` reads the same as this file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Provider = Literal["chatwoot", "whatsapp", "360dialog"]

# Secrets in development default to these well-known values so that `make run` works out
# of the box; production refuses them (see `_refuse_placeholders`).
DEV_PREFIX = "dev-"
_PLACEHOLDERS = {"", "change-me", "changeme", "placeholder", "secret", "xxx", "todo"}
MIN_SECRET_LENGTH = 16

# Classes of work that retry, each with its own backoff (switchboard/retrying.py), and
# their first and longest waits in seconds: a record's work (store, converse, erase, export,
# replay; tried until done), a call to PostgreSQL, the chat model or the data keys, a
# background Kafka reader starting again, an action sent again after its provider failed a
# round (a Retry-After replaces the wait).
RetryWork = Literal["record", "dependency", "reader", "delivery"]
RetrySeconds = Annotated[float, Field(ge=0)]
RETRY_SECONDS: dict[RetryWork, tuple[float, float]] = {
    "record": (0.5, 30.0),
    "dependency": (0.2, 10.0),
    "reader": (0.2, 2.0),
    # Short: a destination that stays down is spaced by its circuit (one probe per cool-down,
    # sinks/outbound/circuit.py), and a longer wait only keeps replies waiting once it is back.
    "delivery": (0.5, 5.0),
}
SecretList = Annotated[tuple[SecretStr, ...], NoDecode]
StrList = Annotated[tuple[str, ...], NoDecode]


def _split_csv(value: object) -> object:
    """Comma-separated lists: several secrets at once make rotation possible."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def is_placeholder(value: str) -> bool:
    """A value nobody should run production with."""
    lowered = value.strip().lower()
    return (
        lowered in _PLACEHOLDERS
        or lowered.startswith(DEV_PREFIX)
        or "change-me" in lowered
        or (lowered.startswith("<") and lowered.endswith(">"))
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    switchboard_env: Literal["development", "test", "production"] = "development"
    switchboard_log_level: str = "INFO"
    switchboard_providers: Annotated[tuple[Provider, ...], NoDecode] = (
        "chatwoot",
        "whatsapp",
        "360dialog",
    )

    # Keyed hashes of provider identities (contact ids, conversation keys).
    switchboard_pseudonym_key: SecretStr = SecretStr("dev-pseudonym-key-not-for-production")

    # Chatwoot: account webhook, agent bot and API inbox secrets; old ones during rotation.
    chatwoot_webhook_secret: SecretList = (SecretStr("dev-chatwoot-webhook-secret"),)
    chatwoot_signature_tolerance_seconds: int = Field(default=300, gt=0)

    # Meta's WhatsApp Cloud API: app secrets (X-Hub-Signature-256) and the verify token.
    whatsapp_app_secret: SecretList = (SecretStr("dev-whatsapp-app-secret"),)
    whatsapp_verify_token: SecretStr = SecretStr("dev-whatsapp-verify-token")

    # 360dialog does not sign messaging webhooks: the operator registers a header with them.
    dialog360_webhook_secret: SecretList = (SecretStr("dev-360dialog-webhook-secret"),)
    dialog360_webhook_header: str = "X-Switchboard-Token"

    sentry_dsn: SecretStr | None = None
    # Share of requests traced for Sentry's performance view (0: errors only).
    sentry_traces_sample_rate: float = Field(default=0.0, ge=0.0, le=1.0)

    # Privacy. Master keys wrap the per-contact data keys; the first wraps new keys, the
    # others still unwrap keys wrapped before a rotation.
    switchboard_master_key: SecretList = (SecretStr("dev-master-key-not-for-production"),)
    # Export archives are written here and served through links signed with this key.
    switchboard_export_dir: Path = Path(".exports")
    switchboard_export_url_key: SecretStr = SecretStr("dev-export-url-key-not-for-production")
    switchboard_export_link_days: int = Field(default=7, ge=1)
    # A data request made in the chat must be confirmed with its one-time code within this.
    switchboard_chat_confirm_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # Where the ingest service is reachable from outside, for export download links.
    switchboard_public_url: str = "http://127.0.0.1:8000"
    # Retention runs daily at this time (cron syntax, UTC).
    switchboard_retention_cron: str = "0 2 * * *"

    # Kafka
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    switchboard_topic_prefix: str = "switchboard."
    switchboard_kafka_replication_factor: int = Field(default=1, ge=1)
    # Partitions of each keyed topic (inbound, actions, contact events, keys, erasures): how
    # far Kafka spreads conversations over workers. Fixed once a topic exists (docs/operations.md).
    switchboard_topic_partitions: int = Field(default=6, ge=1)
    switchboard_produce_timeout_seconds: float = Field(default=3.0, gt=0)

    # PostgreSQL, pool sized as the seed deployment was: 10 connections, 5 more under load.
    database_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:5432/switchboard")
    database_pool_size: int = Field(default=10, ge=1)
    database_max_overflow: int = Field(default=5, ge=0)
    database_pool_timeout_seconds: float = Field(default=30.0, gt=0)
    database_pool_recycle_seconds: float = Field(default=3600.0, gt=0)
    database_statement_timeout_seconds: float = Field(default=30.0, gt=0)

    # Ingest
    switchboard_ingest_host: str = "0.0.0.0"  # noqa: S104 - a container's service port
    switchboard_ingest_port: int = Field(default=8000, ge=1, le=65535)
    switchboard_max_body_bytes: int = Field(default=3 * 1024 * 1024, gt=0)
    # Webhook bodies are read whole before their signature is checked, so these bound what
    # any client, signed or not, can make ingest hold (ingest/admission.py). Bytes of bodies
    # held at once across requests, charged as they arrive (beyond it, 503 with Retry-After):
    # at least one body at the size limit beside the small bodies' share.
    switchboard_body_budget_bytes: int = Field(default=32 * 1024 * 1024, gt=0)
    # A body is small while it declares and holds at most this (an ordinary webhook is a few
    # KB); the share of the budget only small bodies may use, so that large ones, however
    # many or slow, never get an ordinary webhook refused.
    switchboard_small_body_bytes: int = Field(default=64 * 1024, gt=0)
    switchboard_small_body_share: float = Field(default=0.25, gt=0, lt=1)
    # Large bodies one client may be sending at once (beyond it, 429): a provider's burst
    # fits, one client's slow connections cannot take the budget.
    switchboard_large_bodies_per_client: int = Field(default=4, ge=1)
    # How long a body may take (beyond it, 408 and the connection closed), as nginx's
    # client_body_timeout and Apache's mod_reqtimeout bound it: whole within the timeout,
    # and after the grace at least this many bytes a second on average. Providers send from
    # data centres at MB/s and give up after 5-10 s; the grace covers a lost packet's
    # retransmissions (1 s, then 2 s) before the first bytes.
    switchboard_body_timeout_seconds: float = Field(default=10.0, gt=0)
    switchboard_body_grace_seconds: float = Field(default=5.0, ge=0)
    switchboard_body_min_rate_bytes: int = Field(default=16 * 1024, gt=0)
    rate_limit_per_minute: int = Field(default=100, ge=1)
    switchboard_trusted_proxies: StrList = ()
    # The compliance API (/gdpr): requests per minute from one client address, refused ones
    # included (checked before a body is read or a key looked up), and per API key once it
    # proved its secret, from any address. Over either: 429 with Retry-After.
    switchboard_compliance_client_per_minute: int = Field(default=60, ge=1)
    switchboard_compliance_key_per_minute: int = Field(default=60, ge=1)

    # Outbound: where replies and hand-offs go.
    chatwoot_base_url: str = "http://127.0.0.1:3000"
    chatwoot_api_token: SecretStr = SecretStr("dev-chatwoot-agent-bot-token")
    # A Chatwoot user's access token: erasure anonymises contacts with it, and the worker
    # lists a conversation's messages with it to check whether a step it was sending before a
    # crash got through (agent-bot tokens may create messages, but neither list them nor
    # touch contacts). None: Chatwoot contacts cannot be erased (the target stays failed);
    # the listing uses the bot token, and if Chatwoot refuses, the step is sent again.
    chatwoot_admin_token: SecretStr | None = None
    whatsapp_api_base_url: str = "https://graph.facebook.com/v23.0"
    whatsapp_access_token: SecretStr = SecretStr("dev-whatsapp-access-token")
    dialog360_api_base_url: str = "https://waba-v2.360dialog.io"
    dialog360_api_key: SecretStr = SecretStr("dev-360dialog-api-key")
    switchboard_delivery_timeout_seconds: float = Field(default=10.0, gt=0)
    # Each destination (a Chatwoot account, a WhatsApp business number) is called within its
    # rate, and after this many failures in a row not at all until a probe gets through.
    whatsapp_messages_per_second: float = Field(default=80.0, gt=0)
    chatwoot_requests_per_minute: float = Field(default=3000.0, gt=0)
    switchboard_circuit_failures: int = Field(default=5, ge=1)

    # Retries: every retry waits base, 2·base, 4·base… seconds, at most the cap, each wait
    # drawn from its upper half (switchboard/retrying.py); defaults in RETRY_SECONDS.
    switchboard_retry_seconds: dict[RetryWork, tuple[RetrySeconds, RetrySeconds]] = Field(
        default_factory=lambda: dict(RETRY_SECONDS),
        description=(
            "Each class of work's first and longest wait between tries, in seconds, as JSON,"
            ' e.g. {"delivery": [1, 10]}; classes left out keep their defaults. Classes:'
            " record (a record's work, tried until done), dependency (PostgreSQL, the chat"
            " model, the data keys), reader (a Kafka reader starting again), delivery (an"
            " action sent again after a provider failed it: a timeout, 429 or 5xx; a"
            " Retry-After replaces the wait)."
        ),
    )

    # The conversation flow. An empty model means the offline responder: answers straight
    # from the best knowledge-base passage, no model involved.
    switchboard_llm_model: str = ""
    switchboard_llm_base_url: str = ""
    switchboard_llm_api_key: SecretStr | None = None
    switchboard_flow_timeout_seconds: float = Field(default=60.0, gt=0)
    switchboard_model_retries: int = Field(default=3, ge=0)
    switchboard_kb_min_score: float = Field(default=0.05, ge=0)

    # Worker
    switchboard_worker_group: str = "switchboard-worker"
    # Records the ordered agents (converse, deliver) run at once in one worker, over every
    # partition; and how many one partition may hold (running, waiting behind their
    # conversation's earlier record, or done behind an earlier offset) before it stops
    # fetching.
    switchboard_max_in_flight: int = Field(default=256, ge=1)
    switchboard_partition_window: int = Field(default=64, ge=1)
    switchboard_worker_web_port: int = Field(default=6066, ge=1, le=65535)
    # Faust keeps table state here (recovered from changelog topics on start).
    switchboard_worker_data_dir: Path = Path(".worker-data")

    # Consumer lag: how often the monitor samples the groups (0: never), and the window
    # each partition's status is judged over.
    switchboard_lag_interval_seconds: float = Field(default=15.0, ge=0)
    switchboard_lag_window_seconds: float = Field(default=300.0, gt=0)
    # How long a partition's commit may wait on a record no agent is handling before the
    # worker reads the partition again from it (streams/runtime/commit_watch.py; 0: never).
    switchboard_commit_watch_seconds: float = Field(default=5.0, ge=0)

    # The local stack (`switchboard stack up`), used when no external Kafka/PostgreSQL is set.
    switchboard_stack_dir: Path = Path(".stack")
    switchboard_stack_kafka_port: int = Field(default=9092, ge=1, le=65535)
    switchboard_stack_controller_port: int = Field(default=9093, ge=1, le=65535)
    switchboard_stack_postgres_port: int = Field(default=5432, ge=1, le=65535)

    @field_validator("switchboard_retry_seconds")
    @classmethod
    def _retry_defaults(
        cls, value: dict[RetryWork, tuple[float, float]]
    ) -> dict[RetryWork, tuple[float, float]]:
        """Classes left out of the setting keep their default waits."""
        return {**RETRY_SECONDS, **value}

    _split = field_validator(
        "chatwoot_webhook_secret",
        "whatsapp_app_secret",
        "dialog360_webhook_secret",
        "switchboard_providers",
        "switchboard_trusted_proxies",
        "switchboard_master_key",
        mode="before",
    )(_split_csv)

    @property
    def is_production(self) -> bool:
        return self.switchboard_env == "production"

    def secrets_required(self) -> dict[str, list[SecretStr]]:
        """Every secret production needs, by environment variable name."""
        required: dict[str, list[SecretStr]] = {
            "SWITCHBOARD_PSEUDONYM_KEY": [self.switchboard_pseudonym_key],
            "SWITCHBOARD_MASTER_KEY": list(self.switchboard_master_key),
            "SWITCHBOARD_EXPORT_URL_KEY": [self.switchboard_export_url_key],
        }
        if "chatwoot" in self.switchboard_providers:
            required["CHATWOOT_WEBHOOK_SECRET"] = list(self.chatwoot_webhook_secret)
        if "whatsapp" in self.switchboard_providers:
            required["WHATSAPP_APP_SECRET"] = list(self.whatsapp_app_secret)
            required["WHATSAPP_VERIFY_TOKEN"] = [self.whatsapp_verify_token]
        if "360dialog" in self.switchboard_providers:
            required["DIALOG360_WEBHOOK_SECRET"] = list(self.dialog360_webhook_secret)
        return required

    @model_validator(mode="after")
    def _body_budget_holds_a_body(self) -> Settings:
        budget, largest = self.switchboard_body_budget_bytes, self.switchboard_max_body_bytes
        for_large = budget - round(budget * self.switchboard_small_body_share)
        large_allowed = largest > self.switchboard_small_body_bytes
        if budget < largest or (large_allowed and for_large < largest):
            raise ValueError(
                "SWITCHBOARD_BODY_BUDGET_BYTES, less its SWITCHBOARD_SMALL_BODY_SHARE, must be "
                "at least SWITCHBOARD_MAX_BODY_BYTES, or bodies at the size limit could never "
                "be read"
            )
        return self

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        if not self.is_production:
            return self
        for name, values in self.secrets_required().items():
            if not values:
                raise ValueError(f"{name} must be set when SWITCHBOARD_ENV=production")
            for value in values:
                secret = value.get_secret_value()
                if is_placeholder(secret):
                    raise ValueError(
                        f"{name} holds a placeholder value; set a real secret for production"
                    )
                if len(secret) < MIN_SECRET_LENGTH:
                    raise ValueError(
                        f"{name} is shorter than {MIN_SECRET_LENGTH} characters; "
                        "use a long random secret in production"
                    )
        return self
