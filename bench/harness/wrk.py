"""Saturation as wrk measures it: one thread, N connections, one signed body sent over and over.

wrk is a C load generator: it takes a small share of a core where an asyncio client would
take one, so the servers get the machine. It reports latency percentiles (microseconds) and
counts answers outside 2xx/3xx; the Lua script prints them as one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass
from pathlib import Path

MARK = "WRK-RESULT "
SCRIPT = """
local f = assert(io.open(os.getenv("WRK_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Hub-Signature-256"] = os.getenv("WRK_SIGNATURE")

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests": %d, "duration_us": %d, "failed": %d, "p50": %d, "p90": %d, '
    .. '"p99": %d, "max": %d}\\n',
    os.getenv("WRK_MARK"), summary.requests, summary.duration,
    e.status + e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def whole_seconds(seconds: float) -> int:
    """What wrk runs for `seconds`: it takes whole seconds only, at least one."""
    return max(1, math.ceil(seconds))


class WrkError(Exception):
    """wrk failed or printed no result; the message says why."""


@dataclass(frozen=True)
class Saturation:
    target: str
    connections: int
    requests: int
    seconds: float
    failed: int  # answers outside 2xx/3xx, and socket errors
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Wrk:
    executable: str
    script: Path  # SCRIPT, written once
    body: Path
    signature: str

    @classmethod
    def prepare(cls, executable: str, folder: Path, body: bytes, signature: str) -> Wrk:
        script, body_file = folder / "post.lua", folder / "body.json"
        script.write_text(SCRIPT)
        body_file.write_bytes(body)
        return cls(executable, script, body_file, signature)

    async def run(self, target: str, url: str, connections: int, seconds: float) -> Saturation:
        """wrk -t1 -c<connections> against `url` for `seconds` (whole seconds: wrk takes no
        fractions), waited for without blocking this process's event loop."""
        duration = f"-d{whole_seconds(seconds)}s"
        argv = [self.executable, "-t1", f"-c{connections}", duration, "--timeout", "10s"]
        process = await asyncio.create_subprocess_exec(
            *argv,
            "-s",
            str(self.script),
            url,
            env={"WRK_BODY": str(self.body), "WRK_SIGNATURE": self.signature, "WRK_MARK": MARK},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
        return parse(target, connections, output.decode(errors="replace"))


def parse(target: str, connections: int, output: str) -> Saturation:
    """The result line wrk's script printed; WrkError with the output if there is none."""
    lines = [line for line in output.splitlines() if line.startswith(MARK)]
    if not lines:
        raise WrkError(f"wrk printed no result:\n{output[-2000:]}")
    found = json.loads(lines[-1][len(MARK) :])
    return Saturation(
        target=target,
        connections=connections,
        requests=int(found["requests"]),
        seconds=found["duration_us"] / 1e6,
        failed=int(found["failed"]),
        p50_ms=found["p50"] / 1000,
        p90_ms=found["p90"] / 1000,
        p99_ms=found["p99"] / 1000,
        max_ms=found["max"] / 1000,
    )
