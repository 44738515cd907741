"""Bad input through the HTTP app, for every webhook endpoint and signature scheme.

Whatever bytes and headers arrive, the answer is a 4xx or an accepted (200) or acknowledged
(202) body, never a 500; a refused request leaves nothing in the event log; and a body or
credential altered after signing never verifies. The app is the real one, wired by
`build_ingest`, with the in-memory event log and key ring in place of Kafka and PostgreSQL.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from datakeys.testing import in_memory_keyring
from ingest.app import build_ingest, create_app
from ingest.testing import InMemoryEventLog, chatwoot_headers, dialog360_headers, whatsapp_headers
from switchboard.settings import Settings
from tests.conftest import Fixtures
from tests.fakes import chatwoot_payloads as cw
from tests.json_strategies import altered, json_values, mutate, mutated, paths

WHATSAPP_SECRET = "whatsapp-secret-for-properties"
CHATWOOT_SECRET = "chatwoot-secret-for-properties"
DIALOG_HEADER = "X-Switchboard-Token"
DIALOG_SECRET = "dialog-secret-for-properties"
VERIFY_TOKEN = "verify-token-for-properties"
NOW = 1_772_543_157
TOLERANCE = 300
MAX_BODY = 16 * 1024

PATHS = {"whatsapp": "/webhooks/whatsapp", "360dialog": "/webhooks/360dialog"}
PATHS["chatwoot"] = "/webhooks/chatwoot"
PROVIDERS = sorted(PATHS)
# What a webhook may answer to bad input; 404 (provider disabled), 429 and 503 cannot
# happen here: all providers are on, the budget is large and the log is always there.
REFUSALS = frozenset({400, 403, 413, 415})
ANSWERS = REFUSALS | {200, 202}


class Answer(Protocol):
    """A response, from TestClient or from httpx's ASGI transport."""

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


@dataclass(frozen=True)
class App:
    client: TestClient
    log: InMemoryEventLog

    def post(self, provider: str, body: bytes, headers: dict[str, Any]) -> Answer:
        """Post on a fresh log, and check the answer is one that bad input may get."""
        self.log.events.clear()
        response = self.client.post(PATHS[provider], content=body, headers=headers)
        assert_answered(response, self.log)
        return response


def assert_answered(response: Answer, log: InMemoryEventLog) -> None:
    """A refusal with a detail and nothing written, or 200/202 with exactly what it says."""
    assert response.status_code in ANSWERS, (response.status_code, response.text)
    payload = response.json()
    if response.status_code == 200:
        assert payload["status"] in ("accepted", "ignored")
        assert len(log.events) == payload["events"]
        assert (payload["status"] == "accepted") == (payload["events"] > 0)
        return
    assert log.events == []
    if response.status_code == 202:
        assert payload == {"status": "ignored", "detail": "payload shape not recognised"}
    else:
        assert list(payload) == ["detail"]
        assert isinstance(payload["detail"], str)
        assert payload["detail"]


def _app(log: InMemoryEventLog) -> FastAPI:
    settings = Settings(
        whatsapp_app_secret=WHATSAPP_SECRET,
        chatwoot_webhook_secret=CHATWOOT_SECRET,
        chatwoot_signature_tolerance_seconds=TOLERANCE,
        dialog360_webhook_secret=DIALOG_SECRET,
        dialog360_webhook_header=DIALOG_HEADER,
        whatsapp_verify_token=VERIFY_TOKEN,
        rate_limit_per_minute=10**9,
        switchboard_max_body_bytes=MAX_BODY,
    )
    ingest = build_ingest(settings, log, in_memory_keyring())
    ingest.clock = lambda: float(NOW)
    return create_app(ingest)


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    log = InMemoryEventLog()
    with TestClient(_app(log)) as client:
        yield App(client, log)


@pytest.fixture(autouse=True)
def _quiet() -> None:
    """Thousands of requests: leave out the per-request log line (tests/conftest.py resets)."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def signed(provider: str, body: bytes) -> dict[str, str]:
    """The headers the provider would send with ``body``."""
    if provider == "whatsapp":
        return whatsapp_headers(WHATSAPP_SECRET, body)
    if provider == "chatwoot":
        return chatwoot_headers(CHATWOOT_SECRET, body, timestamp=NOW)
    return dialog360_headers(DIALOG_HEADER, DIALOG_SECRET)


@dataclass(frozen=True, repr=False)  # a short repr in hypothesis' failure reports
class RealBodies:
    """Real bodies per provider, each with its kind (the fixture file, or the Chatwoot
    event): Meta's published examples (360dialog forwards the same Cloud API format) and
    bodies with the fields Chatwoot's serialisers write."""

    kinds: dict[str, list[tuple[str, Any]]]

    def of(self, provider: str) -> list[Any]:
        return [body for _, body in self.kinds[provider]]


@pytest.fixture(scope="module")
def real(whatsapp_fixtures: Fixtures) -> RealBodies:
    cloud = [(file, whatsapp_fixtures[file, case]) for file, case in sorted(whatsapp_fixtures)]
    chatwoot: list[Callable[[], dict[str, Any]]] = [
        cw.incoming_message,
        cw.incoming_with_attachment,
        cw.bot_reply,
        cw.private_note,
        cw.conversation_status_changed,
        cw.conversation_resolved,
        cw.contact_created,
    ]
    bodies = [build() for build in chatwoot]
    return RealBodies(
        {
            "whatsapp": cloud,
            "360dialog": cloud,
            "chatwoot": [(body["event"], body) for body in bodies],
        }
    )


def pick(data: st.DataObject, items: list[Any]) -> Any:
    """One of ``items``, drawn by index: a failing example then shows a number, not a body."""
    return items[data.draw(st.integers(min_value=0, max_value=len(items) - 1), label="index")]


# --- strategies ----------------------------------------------------------------------

providers = st.sampled_from(PROVIDERS)
signed_providers = st.sampled_from(["whatsapp", "chatwoot"])  # the body-signing schemes

# Visible Latin-1: what an HTTP header value can carry. Sent as bytes, so nothing re-encodes.
header_values = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=80
).map(lambda text: text.encode("latin-1"))
header_names = st.sampled_from(
    [
        "content-type",
        "content-length",
        "x-hub-signature-256",
        "x-chatwoot-signature",
        "x-chatwoot-timestamp",
        "x-chatwoot-delivery",
        "x-switchboard-token",
        "x-request-id",
        "x-forwarded-for",
        "authorization",
    ]
) | st.from_regex(r"\Ax-[a-z0-9-]{1,20}\Z")
content_types = (
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/json;",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonx",
            "",
        ]
    ).map(str.encode)
    | header_values
)
random_headers = st.dictionaries(header_names, header_values, max_size=6)
# Extra headers a signed request may carry without changing what is signed.
extra_headers = st.dictionaries(
    st.sampled_from(["x-request-id", "x-forwarded-for", "x-chatwoot-delivery", "x-other"]),
    header_values,
    max_size=3,
)

# Hostile JSON that random generation rarely reaches: numbers past Python's digit limit,
# deep nesting, lone surrogates, non-UTF-8, a byte-order mark, NaN.
hostile_json = st.one_of(
    st.integers(min_value=4000, max_value=6000).map(lambda n: b"[" + b"9" * n + b"]"),
    st.integers(min_value=4000, max_value=6000).map(lambda n: b'{"entry": -' + b"1" * n + b"}"),
    st.integers(min_value=1, max_value=5000).map(lambda n: b"[" * n + b"]" * n),
    st.sampled_from(
        [
            b'{"object": "whatsapp_business_account", "entry": "\\ud800"}',
            b'{"event": "message_created", "content": "\\udfff"}',
            b'\xef\xbb\xbf{"event": "message_created"}',
            b'{"event": "message_created", "id": NaN, "created_at": Infinity}',
            b'{"a": "\xff\xfe"}',
            b"1e999999",
            b'"' + b"\\u0000" * 100 + b'"',
            b"",
            b"null",
        ]
    ),
)
bodies = (
    st.binary(max_size=512)
    | hostile_json
    | st.builds(
        lambda head, size: head + b" " * size,
        st.binary(max_size=32),
        st.integers(min_value=MAX_BODY - 32, max_value=MAX_BODY + 32),
    )
)


def _serialised(value: object) -> bytes:
    # ensure_ascii keeps lone surrogates representable as \\udXXX escapes, as Meta sends.
    return json.dumps(value).encode()


quick = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- anything, unsigned ----------------------------------------------------------------


@quick
@given(provider=providers, body=bodies, headers=random_headers, content_type=content_types)
def test_any_bytes_and_headers_are_refused_never_a_500(
    app: App, provider: str, body: bytes, headers: dict[str, bytes], content_type: bytes
) -> None:
    """Unsigned bytes with any headers and content type get a 4xx and write nothing."""
    headers.setdefault("content-type", content_type)
    response = app.post(provider, body, headers)
    assert response.status_code in REFUSALS


# --- correctly signed, anything inside -----------------------------------------------


@quick
@given(provider=providers, body=bodies, extra=extra_headers)
def test_signed_bytes_never_get_a_500(
    app: App, provider: str, body: bytes, extra: dict[str, bytes]
) -> None:
    """A correctly signed body of any bytes reaches parsing and gets 400/413, or is accepted."""
    response = app.post(provider, body, {**signed(provider, body), **extra})
    assert response.status_code != 403


@quick
@given(provider=providers, value=json_values, extra=extra_headers)
def test_signed_json_of_any_shape_never_gets_a_500(
    app: App, provider: str, value: object, extra: dict[str, bytes]
) -> None:
    """Any JSON value, correctly signed, is accepted, acknowledged or refused with a 4xx."""
    body = _serialised(value)
    response = app.post(provider, body, {**signed(provider, body), **extra})
    assert response.status_code in (200, 202, 400)


@quick
@given(provider=providers, data=st.data())
def test_signed_mutated_real_bodies_never_get_a_500(
    app: App, real: RealBodies, provider: str, data: st.DataObject
) -> None:
    """Real bodies with keys deleted or values swapped for any JSON, signed, never 500."""
    original = pick(data, real.of(provider))
    body = _serialised(data.draw(mutated(original)))
    response = app.post(provider, body, signed(provider, body))
    assert response.status_code in (200, 202, 400)


@quick
@given(provider=providers, data=st.data())
def test_signed_byte_edits_of_real_bodies_never_get_a_500(
    app: App, real: RealBodies, provider: str, data: st.DataObject
) -> None:
    """Real bodies with bytes changed before signing (broken JSON, odd digits and escapes)."""
    body = _serialised(pick(data, real.of(provider)))
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        body = data.draw(altered(body))
    response = app.post(provider, body, signed(provider, body))
    assert response.status_code in (200, 202, 400)


def test_every_real_body_is_answered_as_expected(app: App, real: RealBodies) -> None:
    """The unmutated bodies are accepted (so the properties above exercise the accept path)."""
    for provider in PROVIDERS:
        statuses = set()
        for original in real.of(provider):
            body = _serialised(original)
            statuses.add(app.post(provider, body, signed(provider, body)).status_code)
        assert statuses == {200}, provider


# Every field of every real body, deleted or swapped for each of these, one at a time.
_DELETED = object()
HOSTILE: tuple[object, ...] = (
    _DELETED,
    None,
    True,
    -1,
    2**64,  # past a bigint
    1e308,  # past any datetime
    float("nan"),
    "x",
    "\ud800",  # a lone surrogate: valid JSON, not representable as UTF-8
    [],
    {},
)


def field_edits(
    bodies: list[tuple[str, Any]],
) -> Iterator[tuple[tuple[object, ...], object, Any]]:
    """(path, replacement, edited body) for every field of every body; a field that holds
    the same value at the same path in several bodies of a kind is edited in the first only
    (Meta's examples share their envelope)."""
    seen: set[tuple[str, tuple[object, ...], str]] = set()
    for kind, body in bodies:
        for path in paths(body):
            parent = body
            for step in path[:-1]:
                parent = parent[step]
            key = (kind, path, json.dumps(parent[path[-1]], sort_keys=True))
            if key in seen:
                continue
            seen.add(key)
            for replacement in HOSTILE:
                edited = copy.deepcopy(body)
                mutate(edited, path, replacement, delete=replacement is _DELETED)
                yield path, replacement, edited


@asynccontextmanager
async def async_app() -> AsyncIterator[tuple[httpx.AsyncClient, InMemoryEventLog]]:
    """The app without TestClient's thread hop: ~6 times faster, for the sweep."""
    log = InMemoryEventLog()
    app = _app(log)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
            yield client, log


async def test_every_field_of_every_real_body_edited_never_gets_a_500(real: RealBodies) -> None:
    """Each field of each real body deleted, or replaced by a hostile value, and signed: the
    answer is 200, 202 or 400, never a 500, and a refusal writes nothing."""
    sent = 0
    async with async_app() as (client, log):
        for provider in ("whatsapp", "chatwoot"):  # 360dialog's bodies parse as WhatsApp's
            for path, replacement, edited in field_edits(real.kinds[provider]):
                body = _serialised(edited)
                log.events.clear()
                response = await client.post(
                    PATHS[provider], content=body, headers=signed(provider, body)
                )
                where = (provider, path, replacement)
                assert response.status_code in (200, 202, 400), (where, response.text)
                assert_answered(response, log)
                sent += 1
    assert sent > 5000


# --- altered after signing ------------------------------------------------------------


@quick
@given(provider=signed_providers, data=st.data())
def test_a_body_altered_after_signing_is_refused(
    app: App, real: RealBodies, provider: str, data: st.DataObject
) -> None:
    """Flip, insert or delete any byte of a correctly signed body: 403, nothing written."""
    signable = [_serialised(b) for b in real.of(provider)]
    body = pick(data, signable) if data.draw(st.booleans()) else data.draw(st.binary(max_size=256))
    headers = signed(provider, body)
    response = app.post(provider, data.draw(altered(body)), headers)
    assert response.status_code == 403
    assert response.json()["detail"].endswith("does not match")


@quick
@given(data=st.data())
def test_a_chatwoot_timestamp_moved_after_signing_is_refused(app: App, data: st.DataObject) -> None:
    """The timestamp is signed with the body: another one inside the window does not verify."""
    body = _serialised(cw.incoming_message())
    headers = signed("chatwoot", body)
    moved = data.draw(st.integers(min_value=NOW - TOLERANCE, max_value=NOW + TOLERANCE))
    assume(moved != NOW)
    headers["X-Chatwoot-Timestamp"] = str(moved)
    response = app.post("chatwoot", body, headers)
    assert response.status_code == 403
    assert response.json() == {"detail": "X-Chatwoot-Signature does not match"}


@quick
@given(provider=signed_providers, secret=st.text(min_size=1, max_size=40), body=bodies)
def test_a_signature_made_with_another_secret_is_refused(
    app: App, provider: str, secret: str, body: bytes
) -> None:
    """A well-formed signature under any secret we do not hold gets 403 (or 413 first)."""
    assume(secret not in (WHATSAPP_SECRET, CHATWOOT_SECRET))
    if provider == "whatsapp":
        headers = whatsapp_headers(secret, body)
    else:
        headers = chatwoot_headers(secret, body, timestamp=NOW)
    assert app.post(provider, body, headers).status_code in (403, 413)


@quick
@given(data=st.data())
def test_an_altered_360dialog_credential_is_refused(
    app: App, real: RealBodies, data: st.DataObject
) -> None:
    """360dialog signs nothing: its header is the credential, and any change to it is 403."""
    value = data.draw(altered(DIALOG_SECRET.encode()))
    body = _serialised(pick(data, real.of("360dialog")))
    response = app.post(
        "360dialog", body, {"Content-Type": "application/json", DIALOG_HEADER: value}
    )
    assert response.status_code == 403


# --- Meta's subscription handshake -----------------------------------------------------


@quick
@given(
    params=st.dictionaries(
        st.sampled_from(["hub.mode", "hub.verify_token", "hub.challenge", "other"]),
        st.text(max_size=300) | st.sampled_from(["subscribe", VERIFY_TOKEN]),
        max_size=4,
    )
)
def test_the_subscription_handshake_answers_any_query(app: App, params: dict[str, str]) -> None:
    """Any query gets 200 (echoing the challenge only for the right token), 400 or 403."""
    response = app.client.get("/webhooks/whatsapp", params=params)
    assert response.status_code in (200, 400, 403), response.text
    authentic = params.get("hub.mode") == "subscribe" and params.get("hub.verify_token") == (
        VERIFY_TOKEN
    )
    if response.status_code == 200:
        assert authentic
        assert response.text == params["hub.challenge"]
    elif not authentic:
        assert response.status_code == 403
