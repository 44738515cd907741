"""Benchmarks; run each as a script, e.g. `.venv/bin/python bench/ingest.py`."""
