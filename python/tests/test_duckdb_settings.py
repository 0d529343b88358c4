"""DuckDB's resource bounds: one set of env vars and defaults for dbt's connections and the project's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.crm.dbt_invocation import environment
from services.crm.duckdb_settings import (
    DEFAULT_MEMORY_LIMIT,
    DEFAULT_THREADS,
    MEMORY_LIMIT_ENV,
    TEMP_DIR_ENV,
    THREADS_ENV,
    DuckDBSettingsError,
    duckdb_config,
)
from services.crm.warehouse import resolve_target

from .engines import PROFILES_DIR, DuckDBMart

BOUNDED = {MEMORY_LIMIT_ENV: "1GB", THREADS_ENV: "1", TEMP_DIR_ENV: "/tmp/crm-spill"}


def test_defaults_bound_memory_and_threads_and_leave_the_spill_folder_to_duckdb() -> None:
    assert duckdb_config({}) == {"memory_limit": DEFAULT_MEMORY_LIMIT, "threads": DEFAULT_THREADS}


def test_each_bound_comes_from_its_env_var() -> None:
    assert duckdb_config(BOUNDED) == {"memory_limit": "1GB", "threads": "1", "temp_directory": "/tmp/crm-spill"}


@pytest.mark.parametrize("threads", ["0", "two", "-1"])
def test_a_bad_thread_count_names_the_env_var(threads: str) -> None:
    with pytest.raises(DuckDBSettingsError, match=THREADS_ENV):
        duckdb_config({THREADS_ENV: threads})


def test_dbt_profile_reads_the_same_env_vars_and_defaults() -> None:
    with environment(BOUNDED):
        assert resolve_target(PROFILES_DIR, "dev")["config_options"] == duckdb_config()
    with environment({"CRM_PRIORITY_DB": "/tmp/x/crm.duckdb"}):
        settings = resolve_target(PROFILES_DIR, "dev")["config_options"]
    # Unset, the spill folder is DuckDB's own default: beside the database file.
    assert settings == {**duckdb_config({}), "temp_directory": "/tmp/x/crm.duckdb.tmp"}


def test_dbt_connections_run_under_the_bounds(empty_mart: DuckDBMart, tmp_path: Path) -> None:
    bounds = {MEMORY_LIMIT_ENV: "1GB", THREADS_ENV: "1", TEMP_DIR_ENV: str(tmp_path / "spill")}
    sql = (
        "select current_setting('memory_limit') as m, current_setting('threads') as t,"
        " current_setting('temp_directory') as d"
    )
    with environment(bounds):
        shown = empty_mart.run(["show", "--inline", sql])
    row = shown.result.results[0].agate_table.rows[0]
    assert (row["m"], int(row["t"]), row["d"]) == ("953.6 MiB", 1, str(tmp_path / "spill"))
