"""Quantiles of measured times, as reports print them."""

from __future__ import annotations

import math
from collections.abc import Sequence


def ms(values: Sequence[float], quantile: float) -> float:
    """The `quantile` of `values` (seconds) in milliseconds, by nearest rank; NaN if none."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = min(len(ordered) - 1, max(0, math.ceil(quantile * len(ordered)) - 1))
    return ordered[rank] * 1000
