"""What the benchmarks share: child processes, CPU and memory meters, waiting, Kafka topics,
the worker's rig, reports, verdicts and the machine's description. Each benchmark is a
module or a package of `bench` run as `.venv/bin/python -m bench.<name>`; this package
holds no measurement."""
