# Two commands do all set-up from a bare checkout: `make demo` and `make test`.
# Everything lands in .venv; the targets are idempotent and quick when nothing changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
DEPS_STAMP := $(VENV)/.deps-installed
EXT_STAMP := $(VENV)/.extension-built
RUST_SOURCES := Cargo.toml $(wildcard Cargo.lock) pyproject.toml \
	$(shell find crates -name '*.rs' -o -name 'Cargo.toml' -o -name '*.json' -o -name '*.tiktoken' 2>/dev/null)
# pyo3 builds against the virtual environment's interpreter.
export PYO3_PYTHON := $(abspath $(PY))

.PHONY: venv demo test lint fmt test-rust test-python bench clean

venv: $(EXT_STAMP)

$(DEPS_STAMP): requirements-dev.txt constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { \
		echo "python3 -m venv failed; installing the venv module (Debian: python3-venv)"; \
		apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	@touch $@

$(EXT_STAMP): $(DEPS_STAMP) $(RUST_SOURCES)
	VIRTUAL_ENV=$(abspath $(VENV)) PATH="$(abspath $(BIN)):$$PATH" \
		$(BIN)/maturin develop --release --quiet
	@touch $@

# litellm fetches its model cost map over the network at import unless told not to.
demo: venv
	LITELLM_LOCAL_MODEL_COST_MAP=True $(BIN)/litellm-rust demo

test: venv lint test-rust test-python

test-rust:
	cargo test -p litellm-rust-core --quiet

test-python: venv
	$(PY) -m pytest

lint: venv
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings
	$(BIN)/ruff check python tests benches
	$(BIN)/ruff format --check python tests benches
	$(BIN)/mypy
	$(PY) -m mypy.stubtest litellm_rust._native --concise

fmt: venv
	cargo fmt --all
	$(BIN)/ruff format python tests benches
	$(BIN)/ruff check --fix python tests benches

bench: venv
	cargo bench -p litellm-rust-core --bench flags -- --noplot
	$(PY) benches/bench_python.py --output BENCHMARKS.md
	$(PY) benches/bench_tokens.py --output BENCHMARKS.md

clean:
	rm -rf $(VENV) target
