"""The flow benchmark, run as `.venv/bin/python -m bench.flow` (`__main__`): the conversation
worker beside its ceiling, and webhook-to-reply latency through ingest. What is sent
(`messages`), what every phase needs (`rig`), the worker's throughput (`throughput`), the
ceilings (`ceiling`), the end-to-end open loop (`end_to_end`), the run in order (`run`), its
verdicts (`verdicts`) and its report (`report`)."""
