"""Conversations in flight, keyed lanes against one record per partition: run as
`.venv/bin/python -m bench.lanes [--quick]` (`__main__`)."""
