"""Source freshness: a feed past the documented ages warns, then stops the build; the sample seed is fresh."""

from __future__ import annotations

import duckdb
import pytest
import yaml

from services.crm.dbt_invocation import environment
from services.crm.freshness import FreshnessResult, StaleSourceError, check_freshness

from .engines import PROJECT_DIR, DuckDBMart, source_relation

CLIENT = {
    "client_id": "C1",
    "client_name": "A",
    "aum": "100.00",
    "is_sfo": "false",
    "investor_type": "",
    "investments": "",
}
VARS = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
WARN_AFTER_HOURS = int(VARS["source_warn_after_hours"])
ERROR_AFTER_HOURS = int(VARS["source_error_after_hours"])


def load_feed(mart: DuckDBMart, loaded_hours_ago: float | None) -> None:
    """The client table with a load timestamp this many hours old (None: a feed without the column)."""
    mart.load_source([CLIENT])
    if loaded_hours_ago is None:
        return
    with duckdb.connect(str(mart.db_path)) as connection:
        connection.execute(f"alter table {source_relation(mart)} add column loaded_at timestamp with time zone")
        connection.execute(
            f"update {source_relation(mart)} set loaded_at = now() - to_microseconds(cast(? * 3600e6 as bigint))",
            [loaded_hours_ago],
        )


def freshness(mart: DuckDBMart) -> FreshnessResult:
    with environment({"CRM_PRIORITY_DB": str(mart.db_path)}):
        return check_freshness(mart.dbt)


def test_thresholds_are_documented_vars_warn_before_error() -> None:
    assert 0 < WARN_AFTER_HOURS < ERROR_AFTER_HOURS


def test_a_feed_loaded_just_now_passes(empty_mart: DuckDBMart) -> None:
    load_feed(empty_mart, 0.5)
    result = freshness(empty_mart)
    assert (result.status, result.ok) == ("pass", True)
    assert 0.4 < result.age_hours < 0.6
    assert (result.warn_after_hours, result.error_after_hours) == (WARN_AFTER_HOURS, ERROR_AFTER_HOURS)


def test_a_feed_older_than_warn_after_warns_and_may_publish(empty_mart: DuckDBMart) -> None:
    load_feed(empty_mart, WARN_AFTER_HOURS + 1)
    result = freshness(empty_mart)
    assert (result.status, result.ok) == ("warn", True)
    assert WARN_AFTER_HOURS < result.age_hours < ERROR_AFTER_HOURS


def test_a_feed_older_than_error_after_stops_the_build(empty_mart: DuckDBMart) -> None:
    load_feed(empty_mart, ERROR_AFTER_HOURS + 1)
    with pytest.raises(StaleSourceError, match=r"crm\.clients is error: last loaded .* \(warn after 26 h") as stale:
        freshness(empty_mart)
    assert stale.value.result.status == "error"
    assert stale.value.result.age_hours > ERROR_AFTER_HOURS


def test_the_thresholds_follow_the_vars(empty_mart: DuckDBMart) -> None:
    load_feed(empty_mart, 3)
    with environment({"CRM_PRIORITY_DB": str(empty_mart.db_path)}):
        result = check_freshness(empty_mart.dbt, {"source_warn_after_hours": 1, "source_error_after_hours": 48})
    assert result.status == "warn"


def test_a_feed_without_a_load_timestamp_is_not_checked(empty_mart: DuckDBMart) -> None:
    load_feed(empty_mart, None)
    assert freshness(empty_mart).status == "pass"


def test_the_sample_seed_carries_its_load_time_and_is_fresh(empty_mart: DuckDBMart) -> None:
    # Twice: the second load reloads the seed into the table the first one stamped.
    for _ in range(2):
        empty_mart.run(["seed", "--select", "clients"])
    loaded = empty_mart.query(f"select count(*), count(loaded_at) from {source_relation(empty_mart)}")
    assert loaded[0][0] == loaded[0][1] > 300
    assert freshness(empty_mart).status == "pass"
