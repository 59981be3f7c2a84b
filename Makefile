# The two commands (see README): `make build` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TESTSTAMP := $(VENV)/.installed-test

.PHONY: build test lint bench setup setup-test clean

build: $(STAMP)
	$(BIN)/kedb build

test: $(TESTSTAMP)
	$(BIN)/ruff check generators tests benchmarks
	$(BIN)/python -m pytest -q

bench: $(TESTSTAMP)
	$(BIN)/python benchmarks/bench.py

lint: $(TESTSTAMP)
	$(BIN)/ruff check generators tests benchmarks

setup: $(STAMP)
setup-test: $(TESTSTAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml .ci/install-system-deps.sh | $(BIN)/python
	bash .ci/install-system-deps.sh build
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TESTSTAMP): pyproject.toml .ci/install-system-deps.sh | $(BIN)/python
	bash .ci/install-system-deps.sh
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP) $@

clean:
	rm -rf site/* dist .kedb tests/_output benchmarks/_work
