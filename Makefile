# confirmnet: `make demo` runs the network, `make test` runs the tests. Both set up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# Two workers, each taking whole test files (a file's network on anvil is started once; the files
# sharing one, together), the files with slow tests first (tests/conftest.py); the slowest listed.
PYTEST_ARGS ?= -n 2 --dist loadfile --no-loadscope-reorder --durations=25

.PHONY: setup test lint contracts web-assets devnet demo bench clean

setup: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

contracts: setup
	$(BIN)/python -m tools.compile_contracts

# The pages' htmx and Swagger UI, copied from the pinned npm packages into the package (committed).
web-assets: setup
	$(BIN)/python -m tools.web_assets

demo: setup
	$(BIN)/confirmnet demo $(DEMO_ARGS)

# The benchmarks (docs/BENCHMARKS.md): QUICK=1 for a short run (a few minutes, a 30 s soak);
# BENCH_ARGS='--soak-seconds 120' for another length of soak (600 s in the full run).
BENCH_STAMP := $(VENV)/.bench-installed
BENCH_ARGS ?=

$(BENCH_STAMP): pyproject.toml $(PY_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

bench: setup $(BENCH_STAMP)
	$(BIN)/python -m bench.run $(if $(QUICK),--quick --out bench/results/quick.json,--out bench/results/latest.json --plot bench/results/latest.png) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
