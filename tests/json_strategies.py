"""Hypothesis strategies for untrusted input: JSON of any shape, mutations of real provider
bodies, and bytes altered by one.

Shared by the normaliser and signature tests (which call the pure functions directly) and
the HTTP property tests (which send the same values, serialised and signed, through the app).
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # json.loads accepts NaN and Infinity, so these reach the normalisers
    | st.text(max_size=24)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=30,
)


def paths(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every key and index path into a JSON value, parents before their children."""
    found: list[tuple[object, ...]] = []
    if isinstance(value, dict):
        for key, child in value.items():
            found.append((*prefix, key))
            found.extend(paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.append((*prefix, index))
            found.extend(paths(child, (*prefix, index)))
    return found


def mutate(body: Any, path: tuple[Any, ...], replacement: object, delete: bool) -> None:
    """Delete what ``path`` names, or replace it, in place."""
    parent = body
    for step in path[:-1]:
        parent = parent[step]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement


@st.composite
def mutated(draw: st.DrawFn, body: object, values: st.SearchStrategy[Any] = json_values) -> Any:
    """A copy of ``body`` with one to four keys deleted or values swapped for any JSON value."""
    body = copy.deepcopy(body)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        found = paths(body)
        if not found:
            break
        path = draw(st.sampled_from(found))
        mutate(body, path, draw(values), delete=draw(st.booleans()))
    return body


@st.composite
def altered(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with one byte replaced, inserted or removed."""
    position = draw(st.integers(min_value=0, max_value=len(data)))
    replacement = draw(st.integers(min_value=0, max_value=255))
    kind = draw(st.sampled_from(["replace", "insert", "delete"]))
    if kind == "insert" or not data or position == len(data):
        return data[:position] + bytes([replacement]) + data[position:]
    if kind == "delete":
        return data[:position] + data[position + 1 :]
    assume(data[position] != replacement)
    return data[:position] + bytes([replacement]) + data[position + 1 :]
