"""What the compliance API accepts as requests, and how it is described and guarded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from datakeys.testing import in_memory_keyring
from ingest.app import build_ingest, create_app
from ingest.compliance import apikeys
from ingest.compliance.audit import our_id
from ingest.compliance.models import (
    ConsentRequest,
    ContactErasureRequest,
    ErasureRequest,
    ExportRequest,
)
from ingest.testing import InMemoryEventLog
from switchboard.settings import Settings

CONTACT = "phone:+4915112345678"


def test_a_consent_request_needs_a_known_type_a_strict_boolean_and_a_source_code() -> None:
    """Strings are not booleans, free text is not a source, extra fields are refused."""
    ok = ConsentRequest(contact=CONTACT, consent_type="marketing", granted=False, source="web_form")
    assert ok.ip_address is None
    bad: list[dict[str, object]] = [
        {"consent_type": "newsletter"},
        {"granted": "yes"},
        {"granted": 1},
        {"source": "the customer told me on the phone"},
        {"ip_address": "not-an-ip"},
        {"unexpected": True},
        {"contact": ""},
    ]
    for change in bad:
        values = {**ok.model_dump(), **change}
        with pytest.raises(ValidationError):
            ConsentRequest.model_validate(values)


def test_ip_addresses_of_both_families_are_accepted() -> None:
    """IPv4 and IPv6, normalised by the model."""
    for ip in ("203.0.113.7", "2001:db8::1"):
        request = ConsentRequest(
            contact=CONTACT, consent_type="analytics", granted=True, source="app", ip_address=ip
        )
        assert str(request.ip_address) == ip


def test_erasure_is_unconfirmed_unless_said_so() -> None:
    """confirmation defaults to false; the reason is a short code."""
    assert ErasureRequest().confirmation is False
    assert ErasureRequest(confirmation=True, reason="customer_request").confirmation
    with pytest.raises(ValidationError):
        ErasureRequest(confirmation=True, reason="because Ann Smith asked on +4915112345678")
    with pytest.raises(ValidationError):
        ExportRequest.model_validate({"contact": "x" * 300})


@pytest.fixture
def client() -> Iterator[TestClient]:
    # Unit tests do no I/O: the database is nowhere (port 9 refuses), which only the audit
    # of a refused download would try to reach, and its failure does not change the answer.
    settings = Settings(database_url="postgresql://nobody@127.0.0.1:9/nowhere")
    with TestClient(
        create_app(build_ingest(settings, InMemoryEventLog(), in_memory_keyring()))
    ) as test_client:
        yield test_client


def test_every_endpoint_is_in_the_openapi_schema_with_its_models(client: TestClient) -> None:
    """Paths, methods, request and response models and the bearer scheme are published."""
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    assert "post" in paths["/gdpr/consent"]
    assert "post" in paths["/gdpr/export"]
    assert "get" in paths["/gdpr/export/{export_id}/status"]
    assert "get" in paths["/gdpr/export/{export_id}/download"]
    assert "delete" in paths["/gdpr/contacts/{contact_id}"]
    assert "get" in paths["/gdpr/deletions/{deletion_id}"]
    consent = paths["/gdpr/consent"]["post"]
    assert consent["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ConsentRequest"
    )
    assert consent["responses"]["202"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ConsentAccepted"
    )
    assert consent["security"] == [{"HTTPBearer": []}]
    assert "security" not in paths["/gdpr/export/{export_id}/download"]["get"]
    for model in ("ExportAccepted", "ExportStatus", "ErasureRequest", "DeletionStatus", "Problem"):
        assert model in schema["components"]["schemas"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/gdpr/consent"),
        ("POST", "/gdpr/export"),
        ("GET", "/gdpr/export/exp_1/status"),
        ("DELETE", "/gdpr/contacts/ct_1"),
        ("GET", "/gdpr/deletions/del_1"),
    ],
)
def test_every_keyed_endpoint_refuses_a_missing_key(
    client: TestClient, method: str, path: str
) -> None:
    """401, WWW-Authenticate: Bearer and a sentence saying what to send."""
    response = client.request(method, path, json={})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in response.json()["detail"]


def test_a_malformed_key_is_refused_without_a_lookup(client: TestClient) -> None:
    """A token that cannot be one of ours is 401 before any database is asked."""
    response = client.get(
        "/gdpr/deletions/del_1", headers={"Authorization": "Bearer not-a-switchboard-key"}
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "the API key is not valid"}


def test_refusals_are_counted_by_endpoint_and_outcome(client: TestClient) -> None:
    """The metrics show each refusal under its endpoint."""
    client.post("/gdpr/consent", json={})
    metrics = client.get("/metrics").text
    assert (
        'switchboard_compliance_requests_total{endpoint="consent",outcome="unauthenticated"} 1.0'
        in metrics
    )


def test_a_download_without_a_signature_is_forbidden(client: TestClient) -> None:
    """No key is asked for: the link is the credential, and an unsigned one opens nothing.
    (The audit of it needs the database; here it is absent and the refusal still stands.)"""
    response = client.get("/gdpr/export/exp_1/download")
    assert response.status_code == 403
    assert "link" in response.json()["detail"]


def test_postgresql_unreachable_is_a_503_to_retry(client: TestClient) -> None:
    """A well-formed key cannot be checked without the database: 503 with Retry-After,
    while webhooks, which never need PostgreSQL, stay unaffected."""
    key = apikeys.generate("k", ["gdpr:read"])
    response = client.get("/gdpr/deletions/del_1", headers={"Authorization": f"Bearer {key.token}"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "database" in response.json()["detail"]
    assert client.get("/health").status_code == 200


def test_only_ids_we_issue_reach_the_audit_detail() -> None:
    """Anything else a caller put where an id belongs is recorded as 'unrecognised'."""
    assert our_id("exp_" + "a" * 32) == "exp_" + "a" * 32
    assert our_id("key_0123456789abcdef") == "key_0123456789abcdef"
    assert our_id("+4915112345678") == "unrecognised"
    assert our_id("del_ann.smith@example.org") == "unrecognised"


def test_an_erasure_names_its_contact_in_the_body() -> None:
    """POST /gdpr/erasure takes the contact with the confirmation; it is required."""
    request = ContactErasureRequest(contact=CONTACT, confirmation=True)
    assert (request.contact, request.reason) == (CONTACT, "customer_request")
    with pytest.raises(ValidationError):
        ContactErasureRequest.model_validate({"confirmation": True})


def test_the_body_form_is_published_and_the_path_form_deprecated(client: TestClient) -> None:
    """Clients are steered away from putting identities in URLs."""
    paths = client.get("/openapi.json").json()["paths"]
    erasure = paths["/gdpr/erasure"]["post"]
    assert erasure["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ContactErasureRequest"
    )
    assert erasure.get("deprecated") is not True
    assert paths["/gdpr/contacts/{contact_id}"]["delete"]["deprecated"] is True
    assert "429" in erasure["responses"]


def _limited_client(per_minute: int) -> TestClient:
    settings = Settings(
        database_url="postgresql://nobody@127.0.0.1:9/nowhere",
        switchboard_compliance_client_per_minute=per_minute,
    )
    app = create_app(build_ingest(settings, InMemoryEventLog(), in_memory_keyring()))
    return TestClient(app)


def test_a_client_over_its_rate_is_refused_before_its_key_is_looked_up() -> None:
    """Past the budget: 429 with Retry-After, not the 503 a database lookup would give, and
    counted as a refusal of that endpoint."""
    key = apikeys.generate("k", ["gdpr:read"])
    headers = {"Authorization": f"Bearer {key.token}"}
    with _limited_client(2) as client:
        statuses = [client.get("/gdpr/deletions/del_1", headers=headers) for _ in range(3)]
        metrics = client.get("/metrics").text
        tally = client.app.state.compliance.refusals.tally  # type: ignore[attr-defined]
        counted = [(c.endpoint, c.reason, c.attempts) for c in tally.take()]
    assert [r.status_code for r in statuses] == [503, 503, 429]
    assert statuses[2].headers["Retry-After"] == "30"
    assert statuses[2].json() == {"detail": "too many requests; retry after 30 seconds"}
    assert (
        'switchboard_compliance_requests_total{endpoint="deletion_status",outcome="rate_limited"}'
        " 1.0" in metrics
    )
    assert 'switchboard_compliance_counted_refusals_total{reason="rate_limited"} 1.0' in metrics
    assert counted == [("deletion_status", "rate_limited", 1)]


def test_the_compliance_limit_leaves_webhooks_and_other_clients_alone() -> None:
    """One client's budget spent: another address still gets in, and ingest's other
    endpoints do not share the budget."""
    with _limited_client(1) as client:
        assert client.get("/gdpr/deletions/del_1").status_code == 401
        assert client.get("/gdpr/deletions/del_1").status_code == 429
        assert client.get("/health").status_code == 200
        elsewhere = TestClient(client.app, client=("203.0.113.5", 50000))
        assert elsewhere.get("/gdpr/deletions/del_1").status_code == 401


def test_a_forged_forwarded_for_does_not_buy_a_new_budget() -> None:
    """Without trusted proxies, X-Forwarded-For is the client's own say and is ignored."""
    with _limited_client(1) as client:
        assert client.get("/gdpr/export/exp_1/download").status_code == 403
        forged = {"X-Forwarded-For": "198.51.100.7"}
        assert client.get("/gdpr/export/exp_1/download", headers=forged).status_code == 429


def test_refusals_of_callers_without_a_key_are_counted_by_reason() -> None:
    """No key, a malformed key, an unsigned download link, a body that is not JSON: each
    adds to a count of its endpoint and reason (written per window), and to the metric."""
    with _limited_client(100) as client:
        client.post("/gdpr/consent", json={})
        not_json = {"Content-Type": "application/json"}
        assert client.post("/gdpr/export", content=b"{", headers=not_json).status_code == 422
        client.get("/gdpr/deletions/del_1", headers={"Authorization": "Bearer nope"})
        client.get("/gdpr/export/exp_1/download")
        client.get("/gdpr/export/exp_1/download?expires=1&signature=00")
        metrics = client.get("/metrics").text
        tally = client.app.state.compliance.refusals.tally  # type: ignore[attr-defined]
        counted = {(c.endpoint, c.reason): c.attempts for c in tally.take()}
    assert counted == {
        ("consent", "missing_key"): 1,
        ("export", "invalid_body"): 1,
        ("deletion_status", "malformed_key"): 1,
        ("export_download", "bad_link"): 2,
    }
    assert 'switchboard_compliance_counted_refusals_total{reason="bad_link"} 2.0' in metrics
