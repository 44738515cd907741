"""The worker's Prometheus metrics (registry.py), the wrappers that feed them, and /metrics."""
