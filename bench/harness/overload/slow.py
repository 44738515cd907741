"""The slowloris phase of the overload run: ordinary signed webhooks at a steady rate, first
alone (the baseline), then while slow large bodies are held open, in the same run.

The slow bodies come over raw connections, from a thread with an event loop of its own (an
attacker's CPU is not a provider's), each client with its own address in X-Forwarded-For:

* the issue's attack: one client, 10 connections declaring 3 MiB and an 11th 2 MiB to
  /webhooks/360dialog, one byte each, then nothing (ingest: 429 past the client's cap on
  large bodies, 408 after the grace for the others);
* clients trickling 1 KiB every 50 ms (just over the minimum rate: held until the deadline);
* clients sending most of 3 MiB at once, then stalling, so that together they hold most of
  what large bodies may hold (a share of the body budget).

Each connection is opened again as soon as it is answered (after Retry-After for a 429 or
503), so the slow bodies stay open for the whole phase; those still open at its end are cut,
which ingest counts as hang-ups. Webhooks must keep p99 under `ORDINARY_P99_MS` with no
refusal; ingest's own counts of what it refused come from its /metrics, before and after.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import uvloop

from bench.harness.children import HOST
from bench.harness.meter import settle
from bench.harness.overload.offer import (
    WHATSAPP,
    Messages,
    Shot,
    address,
    chatwoot_shot,
    message_id,
    whatsapp_signed,
)
from bench.harness.report import markdown, number
from bench.harness.stats import ms
from bench.harness.verdicts import Check
from ingest.testing import whatsapp_text_body
from switchboard.settings import Settings

if TYPE_CHECKING:
    from bench.harness.overload.drive import Answer, Target

MIB = 2**20
ORDINARY_P99_MS = 100.0
MIN_HELD_OPEN = 10
RAMP_SECONDS = 1.0  # the slow bodies are opened before the webhooks under them are due
SAMPLE_SECONDS = 0.1
TRICKLE = (1024, 0.05)  # bytes, every seconds: 20 KiB/s, over the 16 KiB/s minimum
ONE_BYTE, TRICKLING, STALLED = "1 byte, then nothing", "trickling 20 KiB/s", "2+ MiB, stalled"
KINDS = (ONE_BYTE, TRICKLING, STALLED)
OUTCOMES = ("accepted", "too_many_bodies", "busy", "body_timeout", "client_disconnected")


@dataclass(frozen=True)
class SlowPlan:
    seconds: float = 10.0  # of the baseline, and again of the webhooks under attack
    rate: float = 20.0  # ordinary webhooks a second, each from an address of its own
    phones: int = 20  # WhatsApp senders, made known before the baseline
    trickling: int = 4  # clients, each with as many bodies as it may send at once
    stalling: int = 2
    stall_share: float = 0.9  # of what large bodies may hold, taken by the stalled ones


@dataclass(frozen=True)
class Hold:
    """One slow connection: what it got, how long it stayed open, whether ingest closed it."""

    kind: str
    status: int | None  # None: still open when the phase ended (or failed)
    seconds: float
    closed: bool


@dataclass
class SlowResults:
    plan: SlowPlan
    baseline: list[Answer] = field(default_factory=list)
    attacked: list[Answer] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    open_samples: list[int] = field(default_factory=list)  # slow bodies open, after the ramp
    counted: dict[str, float] = field(default_factory=dict)  # ingest's outcomes in the phase
    server_errors: dict[str, float] = field(default_factory=dict)  # 5xx but 503, in the phase
    large_bytes_held: float = 0.0  # ingest's gauge, halfway through the attack


# --- the slow bodies -----------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One connection an attacker keeps open, opened again each time it is answered."""

    kind: str
    client: str
    path: str
    declared: int
    first: bytes


def slots(plan: SlowPlan, settings: Settings) -> list[Slot]:
    cap = settings.switchboard_large_bodies_per_client
    budget = settings.switchboard_body_budget_bytes
    large = budget - round(budget * settings.switchboard_small_body_share)
    stall = min(3 * MIB - 1, int(large * plan.stall_share) // (plan.stalling * cap))
    found = [
        Slot(ONE_BYTE, "10.6.0.1", "/webhooks/360dialog", size, b"{")
        for size in [3 * MIB] * 10 + [2 * MIB]
    ]
    for n in range(plan.trickling):
        found += [Slot(TRICKLING, f"10.6.1.{n + 1}", WHATSAPP, 3 * MIB, b"{")] * cap
    for n in range(plan.stalling):
        found += [Slot(STALLED, f"10.6.2.{n + 1}", WHATSAPP, 3 * MIB, b" " * stall)] * cap
    return found


async def read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    status = int((await reader.readline()).split()[1])
    headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


async def trickle(writer: asyncio.StreamWriter) -> None:
    size, every = TRICKLE
    while True:
        await asyncio.sleep(every)
        writer.write(b" " * size)


class Attack:
    """Every slot's connections until `end`, and how many were open, sampled."""

    def __init__(self, port: int, end: float) -> None:
        self.port, self.end = port, end
        self.open = 0
        self.holds: list[Hold] = []
        self.samples: list[int] = []

    async def run(self, all_slots: Sequence[Slot]) -> None:
        sampler = asyncio.ensure_future(self.sample())
        await asyncio.gather(*(self.keep(slot) for slot in all_slots))
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler

    async def sample(self) -> None:
        """From the end of the ramp until just before the phase ends and all are cut."""
        await asyncio.sleep(RAMP_SECONDS)
        while time.perf_counter() < self.end - 2 * SAMPLE_SECONDS:
            self.samples.append(self.open)
            await asyncio.sleep(SAMPLE_SECONDS)

    async def keep(self, slot: Slot) -> None:
        while time.perf_counter() < self.end:
            hold = await self.hold(slot)
            self.holds.append(hold)
            if hold.status in (429, 503):
                await asyncio.sleep(1.0)  # as Retry-After says

    async def hold(self, slot: Slot) -> Hold:
        started = time.perf_counter()
        try:
            reader, writer = await asyncio.open_connection(HOST, self.port)
        except OSError:
            return Hold(slot.kind, None, 0.0, False)
        head = (
            f"POST {slot.path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {slot.declared}\r\n"
            f"X-Forwarded-For: {slot.client}\r\n\r\n"
        )
        writer.write(head.encode() + slot.first)
        feeding = asyncio.ensure_future(trickle(writer)) if slot.kind == TRICKLING else None
        self.open += 1
        try:
            async with asyncio.timeout(max(0.0, self.end - time.perf_counter())):
                status, headers = await read_head(reader)
            closed = headers.get("connection") == "close"
            return Hold(slot.kind, status, time.perf_counter() - started, closed)
        except (TimeoutError, OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            return Hold(slot.kind, None, time.perf_counter() - started, False)
        finally:
            self.open -= 1
            if feeding is not None:
                feeding.cancel()
            writer.transport.abort()  # at the phase's end: a hang-up, as ingest counts it


def attack(port: int, all_slots: Sequence[Slot], end: float) -> Attack:
    """The attack on a loop of its own, in the calling thread."""
    running = Attack(port, end)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(running.run(all_slots))
    return running


# --- the webhooks under it -------------------------------------------------------------------


def whatsapp_shot(due: float, client: str, phone: str, wamid: str) -> Shot:
    body = whatsapp_text_body(wamid=wamid, phone=phone, text="Where is my order?")
    headers = whatsapp_signed(body, client)
    return Shot(due, "ordinary", client, WHATSAPP, body, headers, message_id(body))


def ordinary(plan: SlowPlan, messages: Messages, run: str, network: int) -> list[Shot]:
    """Signed webhooks of a few hundred bytes, Chatwoot and WhatsApp in turn."""
    shots = []
    for n in range(round(plan.seconds * plan.rate)):
        due, client = n / plan.rate, address(network, n)
        if n % 2:
            phone = f"1556{n % plan.phones:07d}"
            shots.append(whatsapp_shot(due, client, phone, f"wamid.slow-{run}-{network}-{n}"))
        else:
            shots.append(chatwoot_shot(messages, due, "ordinary", client))
    return shots


async def paced(target: Target, shots: Sequence[Shot], start: float) -> list[Answer]:
    """Each webhook at its time whatever the answers (open loop, latency from when due)."""
    pending = []
    for shot in shots:
        await asyncio.sleep(max(0.0, start + shot.due - time.perf_counter()))
        pending.append(asyncio.ensure_future(target.send(shot, start + shot.due)))
    return list(await asyncio.gather(*pending))


async def scrape(target: Target) -> dict[str, float]:
    """Ingest's counters that matter here, by name: outcomes summed over providers, 5xx
    answers, and the bytes of large bodies being read."""
    async with target.session.get(target.url + "/metrics") as response:
        text = await response.text()
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("switchboard_webhook_requests_total{"):
            name = line.split('outcome="', 1)[1].split('"', 1)[0]
            found[name] = found.get(name, 0.0) + float(line.split()[-1])
        elif line.startswith("switchboard_http_requests_total{") and 'status="5' in line:
            name = "http " + line.split('status="', 1)[1][:3]
            found[name] = found.get(name, 0.0) + float(line.split()[-1])
        elif line.startswith('switchboard_webhook_body_bytes{size="large"}'):
            found["large bytes"] = float(line.split()[-1])
    return found


async def warm(target: Target, plan: SlowPlan, run: str) -> None:
    """Make the WhatsApp senders known (their data keys), as a running desk's are."""
    for n in range(plan.phones):
        shot = whatsapp_shot(0.0, address(8, n), f"1556{n:07d}", f"wamid.slow-{run}-warm-{n}")
        await target.send(shot, time.perf_counter())


async def slowloris(
    target: Target, messages: Messages, settings: Settings, plan: SlowPlan, run: str
) -> SlowResults:
    results = SlowResults(plan)
    await warm(target, plan, run)
    alone, attacked = ordinary(plan, messages, run, 7), ordinary(plan, messages, run, 9)
    settle()  # a full collection over the main load's answers would stall the schedule
    try:
        await alone_then_attacked(target, (alone, attacked), slots(plan, settings), results)
    finally:
        gc.unfreeze()
    return results


async def alone_then_attacked(
    target: Target,
    shots: tuple[list[Shot], list[Shot]],
    attackers: list[Slot],
    results: SlowResults,
) -> None:
    start = time.perf_counter() + 0.2
    results.baseline = await paced(target, shots[0], start)
    before = await scrape(target)
    start = time.perf_counter() + RAMP_SECONDS
    end = start + results.plan.seconds + 0.5
    attacking = asyncio.ensure_future(asyncio.to_thread(attack, target.port, attackers, end))
    halfway = asyncio.ensure_future(scrape_at(target, start + results.plan.seconds / 2))
    results.attacked = await paced(target, shots[1], start)
    done = await attacking
    results.holds, results.open_samples = done.holds, done.samples
    results.large_bytes_held = (await halfway).get("large bytes", 0.0)
    after = await scrape(target)
    changed = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    results.counted = {k: v for k, v in changed.items() if k in OUTCOMES}
    # 503 is `busy`, counted above: large bodies past their share, with Retry-After.
    errors = {k: v for k, v in changed.items() if k.startswith("http ") and k != "http 503"}
    results.server_errors = {k: v for k, v in errors.items() if v}


async def scrape_at(target: Target, at: float) -> dict[str, float]:
    await asyncio.sleep(max(0.0, at - time.perf_counter()))
    return await scrape(target)


# --- judging and reporting -------------------------------------------------------------------


def refused(answers: Sequence[Answer]) -> int:
    return sum(1 for a in answers if not a.accepted)


def held_open(results: SlowResults) -> tuple[int, float]:
    """The fewest slow bodies open at once after the ramp, and the mean."""
    samples = results.open_samples or [0]
    return min(samples), sum(samples) / len(samples)


def verdicts(results: SlowResults) -> list[Check]:
    attacked = [a.seconds for a in results.attacked]
    p99 = ms(attacked, 0.99)
    fewest, mean = held_open(results)
    answered = [h for h in results.holds if h.status is not None]
    statuses = Counter(h.status for h in answered)
    bad = sum(n for s, n in statuses.items() if s not in (408, 429, 503))
    unclosed = sum(1 for h in answered if not h.closed)
    by_status = ", ".join(f"{n} x {s}" for s, n in sorted(statuses.items()))
    return [
        Check(
            p99 < ORDINARY_P99_MS and refused(results.attacked) == 0 and fewest >= MIN_HELD_OPEN,
            f"slowloris: ordinary webhooks p99 {p99:.1f} ms (target < {ORDINARY_P99_MS:g} ms; "
            f"{ms([a.seconds for a in results.baseline], 0.99):.1f} ms without), "
            f"{refused(results.attacked)} of {len(results.attacked)} refused (target 0), while "
            f"{fewest} to {max(results.open_samples or [0])} slow large bodies were held open "
            f"(mean {mean:.0f}; target >= {MIN_HELD_OPEN})",
        ),
        Check(
            bool(answered) and bad == 0 and unclosed == 0 and not results.server_errors,
            f"slow bodies: {len(answered)} answered ({by_status}), "
            f"{bad} otherwise, {unclosed} left open by ingest; ingest's 5xx other than 503 "
            f"in the phase: {results.server_errors or 'none'}",
        ),
    ]


def report(results: SlowResults) -> list[str]:
    plan = results.plan
    rows = []
    for name, answers in (("alone", results.baseline), ("under slow bodies", results.attacked)):
        seconds = [a.seconds for a in answers]
        cells = [number(ms(seconds, q)) for q in (0.5, 0.9, 0.99, 1.0)]
        rows.append([name, str(len(answers)), str(len(answers) - refused(answers)), *cells])
    header = ["ordinary webhooks", "sent", "200", "p50 ms", "p90 ms", "p99 ms", "max ms"]
    lines = [
        f"Slowloris: {plan.rate:g} signed webhooks a second (Chatwoot and WhatsApp in turn, "
        f"each from its own address) for {plan.seconds:g} s alone, then {plan.seconds:g} s "
        f"under slow large bodies, opened again as soon as answered.",
        "",
        *markdown(header, rows),
        "",
        *hold_table(results.holds),
        "",
        "- ingest counted in the phase: "
        + ", ".join(f"{k} {results.counted.get(k, 0):,.0f}" for k in OUTCOMES),
        f"- large bodies held halfway through the attack: {results.large_bytes_held / MIB:.1f} MiB",
    ]
    return lines


def hold_table(holds: Sequence[Hold]) -> list[str]:
    header = ["slow bodies", "opened", "408", "429", "503", "other", "open at end", "p50 s"]
    rows = []
    for kind in KINDS:
        mine = [h for h in holds if h.kind == kind]
        statuses = Counter(h.status for h in mine)
        other = sum(n for s, n in statuses.items() if s not in (408, 429, 503, None))
        held = sorted(h.seconds for h in mine if h.status == 408)
        median = number(held[len(held) // 2], 1) if held else "-"
        counts = [str(statuses[s]) for s in (408, 429, 503)]
        rows.append([kind, str(len(mine)), *counts, str(other), str(statuses[None]), median])
    return markdown(header, rows)
