# Two entry points: `make run` serves the graph, `make test` runs the whole suite. Both set everything up first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup run test lint clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

HOST ?= 127.0.0.1
PORT ?= 5000

run: setup
	$(BIN)/kg serve --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/ruff check src tests $(wildcard benchmarks)
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
