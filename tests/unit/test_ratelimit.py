"""The token bucket and the client address it is keyed by."""

from __future__ import annotations

from ingest.ratelimit import RateLimiter, client_address, parse_networks, retry_after_header


def test_budget_is_spent_then_refilled() -> None:
    """A client gets its per-minute budget at once, then one token per 60/N seconds."""
    limiter = RateLimiter(per_minute=3)
    assert [limiter.acquire("a", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.acquire("a", 0.0)
    assert wait == 20.0
    assert limiter.acquire("a", 20.0) == 0.0


def test_clients_have_separate_buckets() -> None:
    """One client exhausting its budget does not limit another."""
    limiter = RateLimiter(per_minute=1)
    assert limiter.acquire("a", 0.0) == 0.0
    assert limiter.acquire("a", 0.0) > 0
    assert limiter.acquire("b", 0.0) == 0.0


def test_memory_is_bounded() -> None:
    """The least recently seen clients are forgotten past the limit."""
    limiter = RateLimiter(per_minute=1, max_clients=10)
    for n in range(100):
        limiter.acquire(f"client-{n}", 0.0)
    assert len(limiter._buckets) == 10


def test_retry_after_is_a_whole_number_of_seconds_at_least_one() -> None:
    """Retry-After is an integer, rounded up, never 0."""
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(2.1) == "3"


TRUSTED = parse_networks(["10.0.0.0/8"])


def test_forwarded_for_is_ignored_from_untrusted_peers() -> None:
    """A client cannot choose its bucket by sending X-Forwarded-For itself."""
    assert client_address("203.0.113.9", "198.51.100.1", TRUSTED) == "203.0.113.9"


def test_forwarded_for_is_used_behind_trusted_proxies() -> None:
    """Behind a trusted proxy, the nearest untrusted hop is the client."""
    assert client_address("10.0.0.2", "198.51.100.1, 10.0.0.5", TRUSTED) == "198.51.100.1"


def test_forged_leftmost_entries_do_not_win() -> None:
    """Entries left of the first untrusted hop are whatever the client made up."""
    header = "1.1.1.1, 198.51.100.7"
    assert client_address("10.0.0.2", header, TRUSTED) == "198.51.100.7"


def test_garbage_in_forwarded_for_falls_back_to_the_proxy() -> None:
    """A non-address hop is not trusted as a client identity."""
    assert client_address("10.0.0.2", "not-an-ip", TRUSTED) == "10.0.0.2"
