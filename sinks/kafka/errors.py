"""Which failures talking to Kafka are worth another try.

Everything Kafka or the way to it can raise is one of `KAFKA_FAILURES`. aiokafka marks the
errors that a later attempt can cure as ``retriable``: a broker not reachable yet, a leader
or coordinator moving or loading, too few in-sync replicas for now, a request timed out,
metadata not yet there. The socket and the event loop add `OSError` and `TimeoutError`. Any
other `KafkaError` (a record too large for its topic, no authorisation, an unsupported
version, a broken configuration) is a refusal the same request meets again: retrying it
only hides a fault an operator must fix.

Readers that must outlive the broker (the data keys, consent and lag readers) restart on
every failure all the same; this decides what a writer answers (ingest: 503 and retry
later, or 500) and what is logged as the broker being away rather than refusing.
"""

from __future__ import annotations

from aiokafka.errors import (
    BrokerNotAvailableError,
    KafkaError,
    KafkaTimeoutError,
    KafkaUnavailableError,
    ReassignmentInProgress,
    RebalanceInProgressError,
    ReplicaNotAvailableError,
)

KAFKA_FAILURES: tuple[type[Exception], ...] = (KafkaError, OSError, TimeoutError)

# Errors aiokafka does not mark retriable that still pass with time: the client's own
# timeout (a produce or metadata request not answered in time), a broker or replica that is
# away, a group or partitions being moved.
_PASSING = (
    KafkaTimeoutError,
    BrokerNotAvailableError,
    KafkaUnavailableError,
    ReplicaNotAvailableError,
    RebalanceInProgressError,
    ReassignmentInProgress,
)


def is_transient(exc: BaseException) -> bool:
    """Whether the same Kafka request may succeed when tried again later."""
    if isinstance(exc, _PASSING):
        return True
    if isinstance(exc, KafkaError):
        return bool(exc.retriable)
    return isinstance(exc, OSError | TimeoutError)
