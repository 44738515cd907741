"""schemathesis against the service's own OpenAPI schema, with the app wired to the real
Kafka and PostgreSQL: webhooks, the compliance API and health. No request may get a 500,
and every answer (status code, content type, headers, body) must be one the schema
declares. The compliance calls carry a valid key with every scope, so they get past 401."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.strategies import SearchStrategy
from schemathesis.checks import CheckFunction
from schemathesis.core.result import Ok
from schemathesis.generation.modes import GenerationMode
from schemathesis.python import asgi
from schemathesis.schemas import APIOperation, BaseSchema
from schemathesis.specs.openapi import checks

from ingest.app import build_ingest, create_app
from ingest.testing import chatwoot_headers, dialog360_headers, whatsapp_headers
from switchboard.settings import Settings
from tests.integration.conftest import compliance_key, isolated

pytestmark = [
    pytest.mark.integration,
    # The app's Kafka clients (aiokafka) draw from the global `random` in the test client's
    # thread while Hypothesis draws in this one, which Hypothesis takes for a strategy's use.
    pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),
]

# Contacts are checked by the service (400, with the forms it takes), not by a schema
# pattern: a schema-valid contact may well be refused.
NOT_CHECKED: list[CheckFunction] = [checks.positive_data_acceptance]
# Per operation and mode (valid, invalid data): 14 operations x 2 x this, within ~60 s.
EXAMPLES = 25


@pytest.fixture(scope="module")
async def openapi_settings(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """Topics of its own: the erasures and consents it records reach no other test's worker."""
    own = await isolated(settings, "openapi")
    exports: Path = tmp_path_factory.mktemp("openapi-exports")
    return own.model_copy(
        update={
            "switchboard_export_dir": exports,
            "switchboard_public_url": "https://switchboard.example",
        }
    )


@pytest.fixture(scope="module")
async def api_key(openapi_settings: Settings) -> str:
    """A compliance API key holding every scope."""
    return await compliance_key(openapi_settings, "openapi-test")


def provider_headers(settings: Settings, path: str, body: bytes) -> dict[str, str]:
    """What the provider whose webhook ``path`` is would add to ``body``."""
    if path == "/webhooks/whatsapp":
        return whatsapp_headers(settings.whatsapp_app_secret[0].get_secret_value(), body)
    if path == "/webhooks/chatwoot":
        return chatwoot_headers(settings.chatwoot_webhook_secret[0].get_secret_value(), body)
    if path == "/webhooks/360dialog":
        secret = settings.dialog360_webhook_secret[0].get_secret_value()
        return dialog360_headers(settings.dialog360_webhook_header, secret)
    return {}


class SigningClient(asgi.ASGIClient):
    """schemathesis' in-process client, signing webhooks as each provider does, over the
    exact bytes sent: valid requests then get past 403 to parsing, normalising and Kafka."""

    def __init__(self, app: Any, settings: Settings) -> None:
        super().__init__(app)
        self.settings = settings

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        body = request.body.encode() if isinstance(request.body, str) else request.body
        if request.method == "POST" and isinstance(body, bytes | None):
            path = urlsplit(request.url or "").path
            request.headers.update(provider_headers(self.settings, path, body or b""))
        return super().send(request, **kwargs)


@dataclass(frozen=True)
class Service:
    schema: BaseSchema
    signing: SigningClient


@pytest.fixture(scope="module")
def service(openapi_settings: Settings) -> Iterator[Service]:
    app = create_app(build_ingest(openapi_settings))
    signing = SigningClient(app, openapi_settings)
    with signing:
        yield Service(schemathesis.openapi.from_asgi("/openapi.json", app), signing)
    asgi.shutdown_lifespans()  # the app's producer and pool, started on first request


def _describe(failure: BaseException) -> str:
    """The failed checks' own messages, from inside Hypothesis' and schemathesis' groups."""
    if isinstance(failure, BaseExceptionGroup):
        return "\n".join(_describe(inner) for inner in failure.exceptions)
    return str(failure)


@dataclass(frozen=True)
class Run:
    """One way of making an operation's requests."""

    name: str
    cases: SearchStrategy[schemathesis.Case[Any]]
    signed: bool  # valid webhook requests are signed; invalid ones go as generated (403)


def _runs(service: Service, operation: APIOperation[Any, Any, Any, Any]) -> list[Run]:
    examples = service.schema.get_strategies_from_examples(operation)
    return [
        Run("valid", operation.as_strategy(GenerationMode.POSITIVE), signed=True),
        Run("invalid", operation.as_strategy(GenerationMode.NEGATIVE), signed=False),
        *(Run("schema example", strategy, signed=True) for strategy in examples),
    ]


def _exercise(
    service: Service,
    operation: APIOperation[Any, Any, Any, Any],
    run: Run,
    api_key: str,
    seen: set[int],
) -> str | None:
    """Send one run's cases; the first failure, described, or None."""
    session = service.signing if run.signed else None

    @given(case=run.cases)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
        database=None,
    )
    def send(case: schemathesis.Case[Any]) -> None:
        response = case.call_and_validate(
            session=session,
            headers={"Authorization": f"Bearer {api_key}"},
            excluded_checks=NOT_CHECKED,
        )
        seen.add(response.status_code)

    try:
        send()
    except Unsatisfiable:  # nothing to make invalid: no parameters and no body
        assert run.name == "invalid"
    except (AssertionError, BaseExceptionGroup) as failure:  # one per failed check, or a group
        return f"{operation.label} ({run.name}): {_describe(failure)}"
    return None


def test_every_answer_is_declared_and_none_is_a_500(service: Service, api_key: str) -> None:
    """Generated requests, valid and invalid, and the schema's examples, to every operation:
    no 500, and each answer's status, content type, headers and body conform to the schema."""
    results = list(service.schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results) >= 14  # every operation's schema is valid
    seen: dict[str, set[int]] = {operation.label: set() for operation in operations}
    failures = [
        failure
        for operation in operations
        for run in _runs(service, operation)
        if (failure := _exercise(service, operation, run, api_key, seen[operation.label]))
        is not None
    ]
    assert not failures, "\n\n".join(failures)
    for label, statuses in seen.items():
        method, path = label.split(" ", 1)
        if method == "POST" and path.startswith("/webhooks/"):
            # Unsigned requests are refused; signed examples go through Kafka and are accepted.
            assert {200, 403} <= statuses, (label, statuses)
        elif path.startswith("/gdpr/") and not path.endswith("/download"):
            assert statuses - {401, 403}, (label, statuses)  # the key got past authentication
