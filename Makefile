# twinlock developer entry points. Every target creates/refreshes the virtual
# environment it needs, so a fresh clone only needs `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format bench clean mermaid-parser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## demo: lock the bundled example offline from scratch and prove it matches locks/rsp byte for byte
demo: $(STAMP)
	rm -rf build/demo-locks
	$(BIN)/twinlock lock envs/rsp.yaml --locks-dir build/demo-locks
	diff -r locks/rsp build/demo-locks/rsp && echo "demo: fresh lock is byte-identical to locks/rsp"
	$(BIN)/twinlock check envs/rsp.yaml

## test: the whole suite, slow (real-solve) tests included
test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

## mermaid-parser: install Mermaid's own parser (npm) so tests/test_graph.py parses the graphs with it
mermaid-parser:
	npm install --prefix build/mermaid --no-audit --no-fund --silent mermaid jsdom

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf build $(VENV) .pytest_cache .mypy_cache .ruff_cache
