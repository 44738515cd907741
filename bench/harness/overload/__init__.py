"""The overload run, shared by the benchmark `bench.overload` and the fault test
`tests/faults/test_overload.py`: what is offered, the slowloris phase, the run and its judging."""
