# Set-up and the checks CI runs. `make demo` and `make check` are the README's two commands.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: install test-programs demo test lint check bench

$(BIN)/riskmon: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/riskmon

demo: install
	$(BIN)/riskmon demo

# Programs the tests run, from Debian's packages: Prometheus and promtool (metrics tests).
test-programs:
	@command -v prometheus >/dev/null && command -v promtool >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus; }
	@command -v prometheus-alertmanager >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus-alertmanager; }

test: install test-programs
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy monitor rules streams alerts

check: lint test

bench: install
	$(BIN)/python bench/replay_throughput.py
