# The two commands of the README:
#   make run    set up .venv, ingest the bundled corpus, start the chat page
#   make test   set up .venv with the dev extras, then lint, type-check and run every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --quiet --disable-pip-version-check

.PHONY: run test install dev llamacpp lint unit bench calibrate clean

run: install
	$(BIN)/swguide ingest
	$(BIN)/swguide chat

test: dev lint
	$(BIN)/pytest

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed

# Optional: answers written by a local GGUF model through llama.cpp (builds from source).
llamacpp: install
	$(PIP) -c constraints.txt -e ".[llamacpp]"

# torch first, pinned: it is the CPU build that lies on these machines; a plain torch
# requirement would pull several GB of CUDA packages.
$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c 'import sys; assert sys.version_info >= (3, 11), "swguide needs Python 3.11+"'
	$(PIP) torch==2.13.0
	$(PIP) -c constraints.txt -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	$(PIP) -c constraints.txt -e ".[dev]"
	touch $@

unit: dev
	$(BIN)/pytest -m "not slow"

bench: install
	$(BIN)/python benchmarks/bench.py

calibrate: install
	$(BIN)/python -m evals.calibrate

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
