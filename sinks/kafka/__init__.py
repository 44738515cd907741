"""Kafka as a dependency: which of its failures are worth another try."""
