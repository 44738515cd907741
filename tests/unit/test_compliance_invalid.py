"""The 422 answer of the compliance API: where and what was wrong, never what was sent."""

from __future__ import annotations

import json

from pydantic import ValidationError

from ingest.compliance.invalid import validation_errors
from ingest.compliance.models import ConsentRequest

PHONE = "phone:+4915112345678"


def _errors(body: object) -> list[dict[str, object]]:
    try:
        ConsentRequest.model_validate(body)
    except ValidationError as exc:
        return validation_errors(exc.errors())
    raise AssertionError("the body was valid")


def test_a_missing_field_does_not_quote_the_body() -> None:
    """Pydantic's error for a missing field carries the whole body; the answer does not."""
    errors = _errors({"contact": PHONE, "consent_type": "marketing", "granted": True})
    assert errors == [{"type": "missing", "loc": ["source"], "msg": "Field required"}]
    assert "4915112345678" not in json.dumps(errors)


def test_lone_surrogates_in_values_or_keys_give_an_encodable_answer() -> None:
    """Text that cannot be UTF-8 is not quoted back (FastAPI's answer was a 500)."""
    body = {"contact": PHONE, "consent_type": "marketing", "granted": True, "source": "web"}
    for bad in ({**body, "contact": "bsuid:\ud800"}, {**body, "\ud800x": 1}):
        errors = _errors(bad)
        assert [e["type"] for e in errors] == ["string_unicode"]
        json.dumps(errors, ensure_ascii=False).encode("utf-8")


def test_a_caller_named_unknown_field_is_located_by_its_name() -> None:
    """The location keeps the caller's key, so they can see which field to remove."""
    body = {"contact": PHONE, "consent_type": "marketing", "granted": True, "source": "web"}
    assert _errors({**body, "colour": 1}) == [
        {"type": "extra_forbidden", "loc": ["colour"], "msg": "Extra inputs are not permitted"}
    ]
