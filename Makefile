# Two commands do everything on a fresh machine: `make build` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: setup system-packages build test lint pytest docs report dashboard bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,engines,bench]'
	touch $@

## setup: create .venv and install the project with its tools
setup: $(STAMP)

## system-packages: the PostgreSQL server and Java runtime the engine tests need (apt, only when missing)
system-packages:
	bash scripts/system_packages.sh

## build: seed, build and test the mart on the embedded DuckDB, publish it for readers
build: setup
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
bench: setup
	$(BIN)/python -m bench.run --rows $(N) --engine $(ENGINE)

clean:
	rm -rf target logs data .pytest_cache .mypy_cache .ruff_cache .hypothesis
