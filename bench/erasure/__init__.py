"""The erasure benchmark, run as `.venv/bin/python -m bench.erasure [--quick]` (`__main__`).

Its parts: what a run works with (`rig`), the contacts and their data (`seeding`),
requesting and timing erasures (`erasing`), what an erasure cannot cost less than
(`floor`), a tombstoned value leaving the broker's files (`removal`), what is left of the
erased contacts and what the others keep (`leftovers`), the phases in order and what they
found (`phases`), the run's own database, topics, stand-in and worker (`run`), its verdicts
(`judge`) and the report (`report`).
"""
