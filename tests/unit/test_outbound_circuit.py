"""A destination that fails is left alone for a while, then probed; calls keep to its rate."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from schemas.outbound import Destination
from sinks.outbound.circuit import PROBE_POLL_SECONDS, Circuit, TokenBucket
from sinks.outbound.guard import Guard, destination_of
from tests.fakes.outbound_actions import PHONE, PHONE_NUMBER_ID, reply

WHATSAPP = Destination("whatsapp", PHONE_NUMBER_ID)


def test_the_circuit_opens_after_failures_in_a_row() -> None:
    """Four failures leave it closed; the fifth opens it for the base cool-down."""
    circuit = Circuit(threshold=5, base=1.0)
    for _ in range(4):
        assert circuit.failed(now=0.0) == "closed"
        assert circuit.wait(0.0) == 0.0
    assert circuit.failed(now=10.0) == "open"
    assert circuit.wait(10.5) == 0.5


def test_one_probe_after_the_cool_down_decides() -> None:
    """After the cool-down one caller goes; the others wait; its success closes."""
    circuit = Circuit(threshold=1, base=1.0)
    circuit.failed(now=0.0)
    assert circuit.wait(1.0) == 0.0  # the probe
    assert circuit.wait(1.0) == PROBE_POLL_SECONDS  # everyone else
    assert circuit.succeeded() == "closed"
    assert circuit.wait(1.0) == 0.0


def test_a_failed_probe_doubles_the_cool_down_up_to_the_cap() -> None:
    """Each failed probe opens it again for twice as long, at most ``cap``."""
    circuit = Circuit(threshold=1, base=1.0, cap=4.0)
    now = 0.0
    cooldowns = []
    for _ in range(5):
        circuit.failed(now)
        cooldowns.append(circuit.cooldown)
        now += circuit.cooldown
        assert circuit.wait(now) == 0.0
    assert cooldowns == [1.0, 2.0, 4.0, 4.0, 4.0]


def test_retry_after_holds_the_circuit_open_at_least_that_long() -> None:
    """A 429 or 503 asking for 30 s: nothing goes before then."""
    circuit = Circuit(threshold=1, base=1.0)
    circuit.failed(now=0.0, retry_after=30.0)
    assert circuit.wait(29.0) == 1.0


def test_success_resets_the_count() -> None:
    """Failures must be in a row: one success in between starts the count again."""
    circuit = Circuit(threshold=2)
    circuit.failed(0.0)
    circuit.succeeded()
    assert circuit.failed(0.0) == "closed"


@given(st.floats(1, 1000), st.integers(1, 200))
def test_the_bucket_keeps_the_rate(rate: float, calls: int) -> None:
    """Calls taken back to back are spread so none goes before rate allows, after the burst."""
    bucket = TokenBucket(rate=rate, burst=1.0)
    waits = [bucket.delay(0.0) for _ in range(calls)]
    assert waits[0] == 0.0
    for n, wait in enumerate(waits):
        assert abs(wait - n / rate) < 1e-6


async def test_the_guard_keeps_callers_off_an_open_destination_only() -> None:
    """A WhatsApp number that failed is held back; a Chatwoot account is not."""
    slept: list[float] = []
    now = [0.0]

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    changes: list[tuple[str, str]] = []
    guard = Guard(
        failures=2,
        clock=lambda: now[0],
        sleep=sleep,
        changed=lambda destination, state: changes.append((str(destination), state)),
    )
    chatwoot = Destination("chatwoot", "3")
    guard.answered(WHATSAPP, ok=False)
    guard.answered(WHATSAPP, ok=False)
    assert guard.open_circuits() == [WHATSAPP]
    await guard.admit(chatwoot)
    assert slept == []
    await guard.admit(WHATSAPP)
    assert slept == [1.0]
    guard.answered(WHATSAPP, ok=True)
    assert changes == [(str(WHATSAPP), "open"), (str(WHATSAPP), "closed")]
    assert guard.open_circuits() == []


def test_destinations_name_the_business_side_only() -> None:
    """A Chatwoot account or a business number: never the customer's phone."""
    assert destination_of(reply("chatwoot")) == Destination("chatwoot", "3")
    assert destination_of(reply("whatsapp-cloud")) == Destination("whatsapp", PHONE_NUMBER_ID)
    assert destination_of(reply("360dialog")) == Destination("360dialog", PHONE_NUMBER_ID)
    assert PHONE not in str(destination_of(reply("whatsapp-cloud", phone=PHONE)))


def test_calls_under_way_when_it_opened_do_not_lengthen_the_cool_down() -> None:
    """Twenty calls in flight all fail: the circuit opens once, for the base cool-down."""
    circuit = Circuit(threshold=5, base=1.0)
    for _ in range(20):
        circuit.failed(now=0.0)
    assert circuit.cooldown == 1.0
    assert circuit.wait(0.5) == 0.5
