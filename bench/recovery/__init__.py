"""Recovery after a worker is killed with SIGKILL: run as
`.venv/bin/python -m bench.recovery [--quick]` (`__main__`)."""
