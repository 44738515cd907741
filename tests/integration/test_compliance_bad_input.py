"""Garbage to the compliance API, wired to the real PostgreSQL and Kafka: any bearer token,
any body, any id in the path gets a 4xx (or is accepted), never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.app import build_ingest, create_app
from ingest.compliance.routes import MAX_BODY_BYTES
from switchboard.settings import Settings
from tests.integration.conftest import compliance_key, isolated
from tests.json_strategies import json_values, mutated

pytestmark = [
    pytest.mark.integration,
    # The app's Kafka clients (aiokafka) draw from the global `random` in the test client's
    # thread while Hypothesis draws in this one, which Hypothesis takes for a strategy's use.
    pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),
]

CONSENT = {"contact": "phone:+4915112345678", "consent_type": "marketing", "granted": True}
CONSENT["source"] = "web_form"
# (method, path template, body or None) of every endpoint that takes a key.
AUTHENTICATED = [
    ("POST", "/gdpr/consent", CONSENT),
    ("POST", "/gdpr/export", {"contact": "chatwoot:3/1001"}),
    ("GET", "/gdpr/export/exp_0123456789abcdef0123456789abcdef/status", None),
    ("POST", "/gdpr/erasure", {"contact": "phone:+4915112345678", "confirmation": True}),
    ("DELETE", "/gdpr/contacts/phone:+4915112345678", {"confirmation": True}),
    ("GET", "/gdpr/deletions/del_0123456789abcdef0123456789abcdef", None),
]
ID_PATHS = ["/gdpr/export/{}/status", "/gdpr/deletions/{}", "/gdpr/contacts/{}"]
ID_PATHS.append("/gdpr/export/{}/download?expires=1&signature=x")


@dataclass(frozen=True)
class Api:
    client: TestClient
    token: str

    def call(self, method: str, path: str, body: bytes | None, headers: dict[str, Any]) -> int:
        response = self.client.request(method, path, content=body, headers=headers)
        assert response.status_code < 500, (method, path, response.status_code, response.text)
        if response.status_code >= 400:
            assert "detail" in response.json()
        return response.status_code


@pytest.fixture(scope="module")
async def token(settings: Settings) -> str:
    return await compliance_key(settings, "bad-input")


@pytest.fixture(scope="module")
async def own_settings(settings: Settings) -> Settings:
    """Topics of its own: what it records reaches no worker of the session."""
    return await isolated(settings, "compliance-bad-input")


@pytest.fixture(scope="module")
def api(own_settings: Settings, token: str) -> Iterator[Api]:
    with TestClient(create_app(build_ingest(own_settings))) as client:
        yield Api(client, token)


def _json(value: object) -> bytes:
    return json.dumps(value).encode()  # ensure_ascii: lone surrogates travel as escapes


header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=90
)
tokens = st.one_of(
    header_text,
    header_text.map(lambda text: f"Bearer {text}"),
    st.from_regex(r"\ABearer sb_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\Z"),
    st.sampled_from(["Bearer", "Bearer ", "bearer  sb_", "Basic dXNlcjpwYXNz", "Token x"]),
)
quick = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@quick
@given(endpoint=st.sampled_from(AUTHENTICATED), authorization=tokens, data=st.data())
def test_any_authorization_but_a_valid_key_is_401(
    api: Api, endpoint: tuple[str, str, Any], authorization: str, data: st.DataObject
) -> None:
    """Garbage, foreign schemes, well-formed unknown keys and the real key with one character
    changed are all 401, never a 500 and never let through."""
    if data.draw(st.booleans()):  # the real key, one character off
        position = data.draw(st.integers(min_value=0, max_value=len(api.token) - 1))
        other = data.draw(st.sampled_from("0aZ_-"))
        if api.token[position] == other:
            other = "1"
        authorization = f"Bearer {api.token[:position]}{other}{api.token[position + 1 :]}"
    method, path, body = endpoint
    headers = {"Authorization": authorization.encode("latin-1")}
    content = None if body is None else _json(body)
    if content is not None:
        headers["Content-Type"] = b"application/json"
    assert api.call(method, path, content, headers) == 401


bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(_json),
    mutated(CONSENT).map(_json),
    st.sampled_from(
        [
            b"[" * 5000,
            b"[" + b"9" * 5000 + b"]",
            b'{"contact": "bsuid:\\ud800", "consent_type": "marketing"}',
            b'{"contact": "phone:+49\\u0000", "granted": true}',
            b"\xef\xbb\xbf{}",
        ]
    ),
)
content_types = st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", ""]
)


@quick
@given(
    endpoint=st.sampled_from([e for e in AUTHENTICATED if e[2] is not None]),
    body=bodies,
    content_type=content_types,
)
def test_any_body_with_a_valid_key_is_answered_without_a_500(
    api: Api, endpoint: tuple[str, str, Any], body: bytes, content_type: str
) -> None:
    """Bytes, any JSON, mutated real requests, hostile JSON: 4xx or accepted, never a 500."""
    method, path, _ = endpoint
    headers = {"Authorization": f"Bearer {api.token}", "Content-Type": content_type}
    assert api.call(method, path, body, headers) in (202, 400, 404, 413, 415, 422)


@quick
@given(template=st.sampled_from(ID_PATHS), value=st.text(min_size=1, max_size=80))
def test_any_id_in_the_path_is_answered_without_a_500(api: Api, template: str, value: str) -> None:
    """Ids and contacts of any text (NUL, slashes, any script) are 4xx, never a 500."""
    path = template.format(quote(value, safe=""))
    method = "DELETE" if path.startswith("/gdpr/contacts/") else "GET"
    body = _json({"confirmation": True}) if method == "DELETE" else None
    headers = {"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"}
    assert api.call(method, path, body, headers) in (400, 403, 404, 422)


def test_a_large_body_is_refused_before_it_is_read_or_the_key_checked(api: Api) -> None:
    """FastAPI parses a body before authenticating: a body over the limit never gets there."""
    big = b'{"contact": "' + b"9" * (MAX_BODY_BYTES + 1) + b'"}'
    for headers in ({}, {"Authorization": f"Bearer {api.token}"}):
        headers["Content-Type"] = "application/json"
        response = api.client.post("/gdpr/consent", content=big, headers=headers)
        assert response.status_code == 413, response.text
        assert response.json() == {"detail": f"body exceeds {MAX_BODY_BYTES} bytes"}
