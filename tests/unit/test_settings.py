"""Settings: one frozen object, lists for rotation, production refuses placeholders."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from switchboard.cli import ConfigurationError, load_settings
from switchboard.settings import Settings, is_placeholder

STRONG = "k" * 32


def _production(**overrides: str) -> dict[str, str]:
    values = {
        "switchboard_env": "production",
        "switchboard_pseudonym_key": STRONG,
        "chatwoot_webhook_secret": STRONG,
        "whatsapp_app_secret": STRONG,
        "whatsapp_verify_token": STRONG,
        "dialog360_webhook_secret": STRONG,
        "switchboard_master_key": STRONG,
        "switchboard_export_url_key": STRONG,
    }
    values.update(overrides)
    return values


def test_defaults_are_the_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ingest listens on 8000, 100 requests a minute, 3 MB bodies, the seed's pool sizing."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    settings = Settings()
    assert settings.switchboard_ingest_port == 8000
    assert settings.rate_limit_per_minute == 100
    assert settings.switchboard_max_body_bytes == 3 * 1024 * 1024
    assert (settings.database_pool_size, settings.database_max_overflow) == (10, 5)
    assert settings.database_pool_timeout_seconds == 30
    assert settings.database_pool_recycle_seconds == 3600


def test_settings_are_frozen() -> None:
    """Nobody changes configuration behind the process's back."""
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.rate_limit_per_minute = 5  # type: ignore[misc]


def test_comma_separated_secrets_allow_rotation(monkeypatch: pytest.MonkeyPatch) -> None:
    """A secret variable may hold several values, for rotation."""
    monkeypatch.setenv("WHATSAPP_APP_SECRET", "new-one, old-one")
    settings = Settings()
    assert [s.get_secret_value() for s in settings.whatsapp_app_secret] == ["new-one", "old-one"]


def test_production_accepts_real_secrets() -> None:
    """With every secret set to a long random value, production starts."""
    assert Settings(**_production()).is_production  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value", "variable"),
    [
        (
            "switchboard_pseudonym_key",
            "dev-pseudonym-key-not-for-production",
            "SWITCHBOARD_PSEUDONYM_KEY",
        ),
        ("whatsapp_app_secret", "change-me", "WHATSAPP_APP_SECRET"),
        ("chatwoot_webhook_secret", "", "CHATWOOT_WEBHOOK_SECRET"),
        ("whatsapp_verify_token", "short", "WHATSAPP_VERIFY_TOKEN"),
        ("dialog360_webhook_secret", f"{STRONG},<your-secret>", "DIALOG360_WEBHOOK_SECRET"),
        ("switchboard_master_key", "dev-master-key-not-for-production", "SWITCHBOARD_MASTER_KEY"),
        ("switchboard_export_url_key", "short", "SWITCHBOARD_EXPORT_URL_KEY"),
    ],
)
def test_production_refuses_missing_or_placeholder_secrets(
    field: str, value: str, variable: str
) -> None:
    """A missing, short or placeholder secret stops start-up, naming the variable."""
    with pytest.raises(ValidationError, match=variable):
        Settings(**_production(**{field: value}))  # type: ignore[arg-type]


def test_production_only_requires_enabled_providers() -> None:
    """A Chatwoot-only deployment needs no WhatsApp secrets."""
    values = _production(switchboard_providers="chatwoot", whatsapp_app_secret="change-me")
    assert Settings(**values).switchboard_providers == ("chatwoot",)  # type: ignore[arg-type]


def test_cli_reports_configuration_errors_without_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line names the bad variable and never prints the secret it holds."""
    monkeypatch.setenv("SWITCHBOARD_ENV", "production")
    monkeypatch.setenv("SWITCHBOARD_PSEUDONYM_KEY", "dev-leaky-value-123")
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    message = str(raised.value.code)
    assert "SWITCHBOARD_PSEUDONYM_KEY" in message
    assert "dev-leaky-value-123" not in message


@pytest.mark.parametrize("value", ["change-me", "dev-x", "<secret>", "placeholder", ""])
def test_placeholders_are_recognised(value: str) -> None:
    """The values .env.example and development use are all placeholders."""
    assert is_placeholder(value)


def test_real_secret_is_not_a_placeholder() -> None:
    """A random secret is not mistaken for a placeholder."""
    assert not is_placeholder("q8Zr1vX0pLk3mN7bT2wY5cH9")
