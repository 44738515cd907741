"""The one failure callers of the key ring handle."""

from __future__ import annotations


class KeyUnavailableError(Exception):
    """A data key could not be read or created now (Kafka or PostgreSQL unreachable, or the
    owner of a new key has not published it in time). Transient: retry later. Ingest answers
    503 with Retry-After; the worker retries the record."""
