# Two entry points: `make run` serves the graph, `make test` runs the whole suite. Both set everything up first:
# `run` installs what serving needs, `test` adds the test tools (the `test` extra: pytest, selenium, ruff, ...).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup run test lint clean

$(BIN)/pip:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-run

setup: $(VENV)/.installed-test

HOST ?= 127.0.0.1
PORT ?= 5000

run: $(VENV)/.installed-run
	$(BIN)/kg serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests $(wildcard benchmarks)

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
