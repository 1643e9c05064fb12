# Set-up and the checks CI runs. `make demo` and `make check` are the README's two commands.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: install demo test lint check bench

$(BIN)/riskmon: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/riskmon

demo: install
	$(BIN)/riskmon demo

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy monitor rules streams

check: lint test

bench: install
	$(BIN)/python bench/replay_throughput.py
