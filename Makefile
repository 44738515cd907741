# Two commands: `make run` (install, start everything, play a demo) and `make test`.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install lint typecheck unit integration faults bench stack-down clean promtool

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

install: $(UV)
	$(UV) sync --frozen --extra stack

run: install
	$(BIN)/switchboard run

test: install lint typecheck promtool
	$(BIN)/pytest -m "not faults"
	$(BIN)/pytest -m faults

# promtool validates deploy/prometheus/alerts.yml (tests/integration/test_alert_rules.py).
promtool: .tools/bin/promtool

.tools/bin/promtool:
	deploy/prometheus/fetch-promtool.sh $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy .

unit: install promtool
	$(BIN)/pytest tests/unit

integration: install
	$(BIN)/pytest -m integration

bench: install
	-$(BIN)/python -m bench.ingest
	-$(BIN)/python -m bench.flow
	-$(BIN)/python -m bench.lanes
	-$(BIN)/python -m bench.erasure
	-$(BIN)/python -m bench.sink
	-$(BIN)/python -m bench.recovery
	$(BIN)/python -m bench.overload

stack-down:
	$(BIN)/switchboard stack down

clean:
	rm -rf .tools .venv .stack .worker-data
