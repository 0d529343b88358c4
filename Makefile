# Two commands do everything on a fresh machine: `make build` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

# Three install sets, each a lock file with exact versions and hashes (`make lock` writes them):
#   build  what building, verifying, publishing and the CLI need on DuckDB   (make build)
#   test   build + PostgreSQL and Spark adapters, pytest, the linters, and   (make test)
#          the bench set, since the suite runs the benchmark at a tiny size
#   bench  build + the benchmark's comparison libraries                      (make bench)
# A stamp per set: a set installs again only when its lock file or pyproject.toml changes.
LOCK_PLATFORM := --python-version 3.11 --python-platform x86_64-manylinux_2_28
# No `# via` notes: they would name the temporary all-extras resolution and change on every run.
LOCK_FLAGS := --quiet --generate-hashes --no-annotate --custom-compile-command 'make lock' $(LOCK_PLATFORM)
UV ?= $(BIN)/uv

.PHONY: setup system-packages build test lint pytest docs report dashboard bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Exactly what the lock names, hashes checked, nothing resolved: the lock is already the whole
# resolution (--no-deps also keeps pip from asking for a pin of each `pkg[extra]` a package
# requires); pip check then proves it complete. Then the project itself, from the same lock.
# Bytecode is compiled once here: with PYTHONDONTWRITEBYTECODE set (as on our machines) pip skips
# it, and every command would compile numba's and dbt's sources again (0.6 s a `verify`). So are
# the check's compiled loops (numba's cache), which its first run would otherwise compile (3 s).
$(VENV)/.installed-%: requirements/%.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --no-deps --require-hashes -r $<
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/pip check
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib python > /dev/null
	$(BIN)/python -c 'from services.crm.arrow_check import compile_kernels; compile_kernels()'
	touch $@

## setup: create .venv and install the project with its engine adapters and test tools
setup: $(VENV)/.installed-test

## system-packages: the PostgreSQL server and Java runtime the engine tests need (apt, only when missing)
system-packages:
	bash scripts/system_packages.sh

## build: seed, build and test the mart on the embedded DuckDB, publish it for readers (installs the build set only)
build: $(VENV)/.installed-build
	$(BIN)/crm-priority build

## test: lint everything, then run the whole pytest suite on DuckDB, PostgreSQL and Spark
test: setup system-packages
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory pytest

pytest: setup system-packages
	SPARK_LOCAL_IP=127.0.0.1 $(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/sqlfluff lint models tests analyses

## lock: re-resolve pyproject.toml's ranges and rewrite requirements/*.txt (current pins kept; UPGRADE=1: newest)
# One resolution of every extra first, so that the three sets agree on every package they share.
# It starts from the test set's pins (uv keeps an output file's versions where they still fit),
# so adding a dependency does not move every other one.
lock: setup
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && cp requirements/test.txt $$tmp/all.txt && \
	$(UV) pip compile pyproject.toml requirements/install.in --all-extras $(LOCK_FLAGS) $(if $(UPGRADE),--upgrade) \
		-o $$tmp/all.txt && \
	$(UV) pip compile pyproject.toml requirements/install.in -c $$tmp/all.txt $(LOCK_FLAGS) -o requirements/build.txt && \
	$(UV) pip compile pyproject.toml requirements/install.in --extra dev --extra engines --extra bench -c $$tmp/all.txt \
		$(LOCK_FLAGS) -o requirements/test.txt && \
	$(UV) pip compile pyproject.toml requirements/install.in --extra bench -c $$tmp/all.txt \
		$(LOCK_FLAGS) -o requirements/bench.txt
	@echo "Rewrote requirements/build.txt, test.txt and bench.txt; review the diff and commit it."

## docs: generate the dbt docs site (offline) into target/; view it with `.venv/bin/dbt docs serve --profiles-dir profiles`
docs: build
	$(BIN)/dbt docs generate --profiles-dir profiles

## report: render the AUM distribution chart and summary into reports/
report: build
	$(BIN)/crm-priority report --out reports

## dashboard: serve the Superset dashboards (own venv, installed once) on the published mart at 127.0.0.1:8088
dashboard: build
	bash scripts/superset.sh install
	bash scripts/superset.sh import
	bash scripts/superset.sh serve

## bench: time the mart (dbt vs a hand-written CTAS) and its verification (vs datacompy) on N synthetic clients
N ?= 1000000
ENGINE ?= duckdb
# PostgreSQL and Spark need their adapters, which the test set has (it includes the bench set).
BENCH_SET := $(if $(filter duckdb,$(ENGINE)),bench,test)
bench: $(VENV)/.installed-$(BENCH_SET)
	$(BIN)/python -m bench.run --rows $(N) --engine $(ENGINE)

clean:
	rm -rf target logs data .pytest_cache .mypy_cache .ruff_cache .hypothesis
