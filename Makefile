# Every target creates .venv on first use and reinstalls when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The suite runs on this many pytest-xdist workers, a test file per worker at a time (so a file's
# tests run in order, with its module fixtures once). TEST_WORKERS=0 runs it in this process (for
# -s or --pdb); PYTEST_ARGS='-n0 ...' does the same.
TEST_WORKERS ?= 2

.PHONY: test demo lint bench anchor emulator clean

# The client this project re-implements, to compare against in `make bench`; outside the repository
# and never a dependency.
ANCHOR_VENV ?= /tmp/relationalai-1.37.0

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

demo: $(STAMP)
	$(BIN)/python -m examples.demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy examples tests/typing

bench: $(STAMP)
	BENCH_ANCHOR_PYTHON=$(ANCHOR_VENV)/bin/python $(BIN)/python -m bench

anchor:
	test -x $(ANCHOR_VENV)/bin/python || $(PYTHON) -m venv $(ANCHOR_VENV)
	$(ANCHOR_VENV)/bin/python -m pip install --quiet relationalai==1.37.0

emulator: $(STAMP)
	$(BIN)/jobs-emulator

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
