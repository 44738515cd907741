"""The ingest benchmark: signed WhatsApp webhooks to `switchboard ingest` beside its ceilings,
run as `.venv/bin/python -m bench.ingest` (the script is `__main__.py`).

One concept a module: the run's durations (`plan`), what is sent (`messages`), the servers
under test (`servers`), the CPU each phase records (`cpu`), closed- and open-loop load
(`loops`) and its phases against the raw producer (`phases`), saturation with wrk
(`saturation`), the verdicts (`judge`), the report (`report`) and one run from start to
stop (`run`). What other benchmarks could use is in `bench.harness`.
"""
