"""A benchmark's child sampled with py-spy while it is measured."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from bench.harness.errors import BenchError


@contextlib.asynccontextmanager
async def profiled(pid: int, output: Path | None) -> AsyncIterator[None]:
    """py-spy sampling `pid` meanwhile, when an output file is given: only while it holds
    the GIL, so the samples show where its CPU goes. Each sample pauses it briefly (without
    pausing, half-read stacks lose their callers under load)."""
    if output is None:
        yield
        return
    spy = shutil.which("py-spy", path=Path(sys.executable).parent) or shutil.which("py-spy")
    if spy is None:
        raise BenchError("--profile needs py-spy: `uv pip install --python .venv py-spy`")
    argv = [spy, "record", "--pid", str(pid), "--format", "raw", "--nolineno", "--gil"]
    argv += ["--rate", "100", "--output", str(output)]
    spying = await asyncio.create_subprocess_exec(
        *argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    await asyncio.sleep(1.0)  # attached
    try:
        yield
    finally:
        spying.send_signal(signal.SIGINT)  # py-spy writes its file and exits
        try:
            await asyncio.wait_for(spying.wait(), 30)
        except TimeoutError:
            spying.kill()
            await spying.wait()
