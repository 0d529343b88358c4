"""`dbt seed` then `dbt run` on a fresh database: every model builds, the tier history before any snapshot included."""

from __future__ import annotations

from .engines import DuckDBMart, relation


def test_dbt_run_on_a_fresh_database_builds_tier_changes_empty(empty_mart: DuckDBMart) -> None:
    empty_mart.run(["seed"])
    empty_mart.run(["run"])
    assert empty_mart.query(f"select count(*) from {relation(empty_mart, 'client_tier_changes')}") == [(0,)]
    assert empty_mart.query(f"select count(*) from {relation(empty_mart, 'client_priority')}")[0][0] > 300
