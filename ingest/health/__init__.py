"""Liveness, readiness and a detailed view of every component ingest depends on."""
