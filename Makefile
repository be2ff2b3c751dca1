# The two commands of the README: `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast check lint bench clean conformance wheel

$(STAMP): pyproject.toml
	@echo "Installing Maskwire and its dependencies into $(VENV) (a few minutes the first time; pip shows each package)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/maskwire demo

# pytest exits 5 when it collected no tests: that is a failure, not a pass.
PYTEST = $(BIN)/python -m pytest -q $(1); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$status

test: $(STAMP)
	$(call PYTEST)

# Every test that needs no server subprocess, npm, LangChain env or wheel build (markers e2e and slow left out).
test-fast: $(STAMP)
	$(call PYTEST,-m "not e2e and not slow")

# The official MCP conformance suite against `maskwire serve --transport http` (also part of `make test`).
conformance: $(STAMP)
	$(BIN)/python -m pytest -q tests/conformance

# Short runs of the benchmarks that need no data from outside the repository (their corpora, ledgers and inputs
# are generated); each writes its figures as JSON into build/bench/. Full runs, and the benchmarks that read
# ../shared/fixtures or ../quality-data: benchmarks/README.md.
BENCH_OUT := build/bench

bench: $(STAMP)
	mkdir -p $(BENCH_OUT)
	$(BIN)/python benchmarks/regex_worst_case.py --length 1000 --json $(BENCH_OUT)/regex_worst_case.json
	$(BIN)/python benchmarks/first_commands.py --rounds 1 --json $(BENCH_OUT)/first_commands.json
	$(BIN)/python benchmarks/ledger.py --rows 5000 --repeat 1 --json $(BENCH_OUT)/ledger.json
	$(BIN)/python benchmarks/documents.py --files 100 --chunks 1000 --queries 20 --reads 10 \
		--json $(BENCH_OUT)/documents.json

# The wheel a user installs with pip (build/wheel/maskwire-*.whl).
wheel: $(STAMP)
	$(BIN)/python -m pip wheel --no-deps --no-build-isolation -w build/wheel .

lint: $(STAMP)
	$(BIN)/ruff check .

# Lint, formatting and types (mypy reads its settings and the packages to check from pyproject.toml).
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The LangChain example (examples/agents/langchain_agent.py) runs in its own env, because langchain-mcp-adapters
# needs mcp<2 and Maskwire mcp 2.x; it starts `maskwire serve` from .venv as a subprocess. The env is rebuilt only
# when its requirements change; the stamp holds their SHA-256 (tests/e2e/test_langchain_example.py reads it too).
LC_VENV := .venv-langchain
LC_REQUIREMENTS := examples/agents/requirements-langchain.txt
LC_STAMP := $(LC_VENV)/.requirements.sha256

$(LC_STAMP): $(LC_REQUIREMENTS)
	$(PYTHON) -m venv --clear $(LC_VENV)
	$(LC_VENV)/bin/python -m pip install --quiet -r $(LC_REQUIREMENTS)
	$(PYTHON) -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' $< > $@

.PHONY: langchain-example
# `check --demo` builds the demo workspace on first use; MASKWIRE_CONFIG points the example's `serve` at it.
langchain-example: $(STAMP) $(LC_STAMP)
	$(BIN)/maskwire check --demo > /dev/null
	MASKWIRE_CONFIG="$${MASKWIRE_HOME:-$$HOME/.maskwire}/demo/maskwire.toml" \
		$(LC_VENV)/bin/python examples/agents/langchain_agent.py --maskwire $(BIN)/maskwire

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
