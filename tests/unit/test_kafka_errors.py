"""Which Kafka failures are worth another try: the broker being away or slow, yes; a request
it refuses for good, no."""

from __future__ import annotations

import aiokafka.errors as kafka
import pytest

from sinks.kafka.errors import KAFKA_FAILURES, is_transient

RETRIABLE = sorted(
    (
        error
        for error in vars(kafka).values()
        if isinstance(error, type)
        and issubclass(error, kafka.KafkaError)
        and getattr(error, "retriable", False)
    ),
    key=lambda error: error.__name__,
)


@pytest.mark.parametrize("error", RETRIABLE, ids=lambda error: error.__name__)
def test_what_aiokafka_marks_retriable_is_transient(error: type[kafka.KafkaError]) -> None:
    assert is_transient(error())


@pytest.mark.parametrize(
    "failure",
    [
        kafka.KafkaTimeoutError(),
        kafka.KafkaConnectionError(),
        kafka.NotEnoughReplicasError(),
        kafka.BrokerNotAvailableError(),
        kafka.RebalanceInProgressError(),
        ConnectionRefusedError(),
        TimeoutError(),
    ],
    ids=type,
)
def test_a_broker_away_or_slow_is_transient(failure: Exception) -> None:
    assert is_transient(failure)


@pytest.mark.parametrize(
    "failure",
    [
        kafka.MessageSizeTooLargeError(),
        kafka.TopicAuthorizationFailedError(),
        kafka.UnsupportedVersionError(),
        kafka.InvalidTopicError(),
        kafka.ProducerClosed(),
        ValueError("not Kafka's"),
    ],
    ids=type,
)
def test_a_refusal_for_good_is_not_transient(failure: Exception) -> None:
    assert not is_transient(failure)


def test_every_kafka_failure_is_caught_by_the_one_tuple() -> None:
    for failure in (kafka.MessageSizeTooLargeError(), OSError(), TimeoutError()):
        assert isinstance(failure, KAFKA_FAILURES)
    assert not isinstance(ValueError(), KAFKA_FAILURES)
