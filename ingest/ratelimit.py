"""Per-client rate limiting: a token bucket per address, and who the client is.

Pure: the caller passes the time. Memory is bounded: the least recently seen clients are
forgotten first, which at worst lets a forgotten client start again with a full bucket.
"""

from __future__ import annotations

import ipaddress
import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, per_minute: int, max_clients: int = 100_000) -> None:
        self.capacity = float(per_minute)
        self.refill_per_second = per_minute / 60.0
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def acquire(self, client: str, now: float) -> float:
        """Take one token; 0 when allowed, otherwise the seconds until a token is free."""
        bucket = self._buckets.pop(client, None) or _Bucket(self.capacity, now)
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(self.capacity, bucket.tokens + elapsed * self.refill_per_second)
        bucket.updated = now
        self._buckets[client] = bucket
        if len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.refill_per_second


def retry_after_header(wait_seconds: float) -> str:
    return str(max(1, math.ceil(wait_seconds)))


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Sequence[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


def client_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The client's address, believing X-Forwarded-For only from trusted proxies.

    Walks the header from the right (the entry the nearest proxy appended) and stops at
    the first address that is not itself a trusted proxy, so a client cannot pick its own
    bucket by sending a forged header.
    """
    if peer is None:
        return "unknown"
    if not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    candidate = peer
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        if not _is_trusted(hop, trusted):
            return hop if _is_ip(hop) else candidate
        candidate = hop
    return candidate


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)
