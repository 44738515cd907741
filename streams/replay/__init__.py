"""Replaying a topic, or a time range of it, into a consumer group or the pipeline."""
