# The two commands (see README): `make build` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TESTSTAMP := $(VENV)/.installed-test

.PHONY: build test lint bench mutation dist setup setup-test clean

# After this repository, the bundled example with a demonstration approval trail (examples/example_history.py).
build: $(STAMP)
	$(BIN)/kedb build
	$(BIN)/python examples/example_history.py .kedb/example
	$(BIN)/kedb --root .kedb/example build

# `make test` installs Chromium, LibreOffice and poppler, so the tests that need them, or the real
# ServiceNow export (../shared/data next to the clone, or the folder KEDB_SHARED_DATA names; it is
# not installed), fail here instead of skipping (KEDB_REQUIRE_ALL=1, as CI=true does; see
# tests/kbtest.py). `make test KEDB_REQUIRE_ALL=0` lets them skip, each skip naming what went unchecked.
test: $(TESTSTAMP)
	$(BIN)/ruff check generators tests benchmarks examples
	KEDB_REQUIRE_ALL=$${KEDB_REQUIRE_ALL:-1} $(BIN)/python -m pytest -q

bench: $(TESTSTAMP)
	$(BIN)/python benchmarks/bench.py

# Mutation testing of the guards (tests/mutation/run.py): kill rate per guard; 20-40 min on 2 cores.
mutation: $(TESTSTAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,mutation]'
	$(BIN)/python tests/mutation/run.py

# The wheel and sdist a team installs (templates and the example KB inside), into dist/.
dist: $(TESTSTAMP)
	rm -rf dist
	$(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation -w dist .
	$(BIN)/python -c "import sys; sys.argv = ['hatchling', 'build', '-t', 'sdist', '-d', 'dist']; from hatchling.cli import hatchling; sys.exit(hatchling())"
	ls -l dist

lint: $(TESTSTAMP)
	$(BIN)/ruff check generators tests benchmarks examples

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
