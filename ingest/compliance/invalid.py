"""What a 422 says about a request body that does not fit its model. Pure.

FastAPI's own answer quotes the offending input: it may be a phone number (a missing field
quotes the whole body), and a lone surrogate in it cannot even be encoded, which turned a
422 into a 500. This keeps where and what was wrong, never what was sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def _printable(part: object) -> str | int:
    """A location step: an index, or a name (a caller's own key, for an unknown field)
    made encodable."""
    if isinstance(part, int):
        return part
    return str(part).encode("utf-8", "replace").decode("utf-8")


def validation_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "type": str(error["type"]),
            "loc": [_printable(part) for part in error["loc"]],
            "msg": _printable(error["msg"]),
        }
        for error in errors
    ]
