"""What every benchmark report shares: the revision measured, numbers and Markdown tables."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"  # git ignores it


def revision() -> str:
    git = shutil.which("git")
    if git is None:
        return "unknown"
    described = subprocess.run(  # noqa: S603 - git, found on PATH, with fixed arguments
        [git, "-C", str(ROOT), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return described.stdout.strip() or "unknown"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, for a report's machine lines."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def number(value: float | None, digits: int = 1) -> str:
    """`value` with `digits` decimals and thousands separators; "-" for none or NaN."""
    return "-" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def markdown(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> list[str]:
    """A padded Markdown table; the first `left` columns read left-aligned, numbers right."""
    widths = [max(3, *(len(row[i]) for row in [header, *rows])) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = [
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = ["-" * w if i < left else "-" * (w - 1) + ":" for i, w in enumerate(widths)]
    return [line(header), "| " + " | ".join(rule) + " |", *(line(row) for row in rows)]


def keep(name: str, started: datetime, report: str) -> Path:
    """Keep a report in bench/results/<name>-<UTC start>.md; its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{started:%Y%m%dT%H%M%SZ}.md"
    path.write_text(report)
    return path


def publish(name: str, started: datetime, report: str, passed: bool) -> int:
    """Print the report and keep it; the exit status."""
    path = keep(name, started, report)
    print(report)
    print(f"written to {path.relative_to(ROOT)}", file=sys.stderr)
    return 0 if passed else 1


def run_reported(
    name: str,
    started: datetime,
    measure: Callable[[], tuple[str, bool]],
    errors: tuple[type[Exception], ...],
    stopped: str,
) -> int:
    """A benchmark's exit status: 0 passed, 1 a target missed, 2 it could not measure, 130
    interrupted. ``measure`` runs it and renders (report, passed); ``stopped`` says what an
    interruption cleaned up."""
    try:
        report, passed = measure()
    except errors as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"interrupted; {stopped}", file=sys.stderr)
        return 130
    return publish(name, started, report, passed)
