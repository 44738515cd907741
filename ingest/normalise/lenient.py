"""Reading untrusted JSON without trusting its shape: each accessor answers the type it
promises or an empty value, so a normaliser never fails on a field of an unexpected type."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Skip(Exception):  # noqa: N818 - control flow, not an error
    """A part of a body cannot become an event; the reason is fixed text, safe to log."""


def obj(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def items(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def text(mapping: Mapping[str, Any], key: str) -> str | None:
    """A non-empty string field, or None."""
    value = mapping.get(key)
    return value if isinstance(value, str) and value else None
