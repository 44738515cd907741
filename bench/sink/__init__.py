"""The PostgreSQL sink beside `pgbench` inserts: run as
`.venv/bin/python -m bench.sink [--quick]` (`__main__`)."""
