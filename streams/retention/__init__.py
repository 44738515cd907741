"""Retention (storage limitation): `policy` decides what is past its policy and `requests`
builds the events a run appends (both pure); `store` and `run` carry a run out against
PostgreSQL and Kafka; `schedule` is the worker's crontab, `command` the CLI's entry."""
