"""What every benchmark's script starts with: its arguments, and a stop that cleans up."""

from __future__ import annotations

import argparse
import signal
from datetime import UTC, datetime


def arguments(name: str, doc: str | None, quick: str) -> argparse.ArgumentParser:
    """The parser of `python -m bench.<name>`: the first paragraph of its docstring, and
    ``--quick`` (``quick`` says what a quick run does)."""
    parser = argparse.ArgumentParser(
        prog=f"python -m bench.{name}", description=(doc or "").split("\n\n")[0]
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{quick}, for smoke checks: behaviour judged, targets shown, not judged",
    )
    return parser


def begin() -> datetime:
    """Stop on SIGTERM as on Ctrl-C, so that the run cleans up on its way out; the moment
    the run starts."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    return datetime.now(UTC)
