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

run: setup
	$(BIN)/kg stats
	$(BIN)/kg query cells-since-2002

test: setup
	$(BIN)/ruff check src tests $(wildcard benchmarks)
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
