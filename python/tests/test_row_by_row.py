"""The mart built by dbt agrees with the Python reference on every client and every column, on every engine."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings

from services.crm.client_priority import PriorityScorer
from services.crm.policy import load_policy

from .conftest import DBT_BACKED_PHASES, RUN_SCORING, examples
from .engines import DuckDBMart, Mart, relation, source_relation
from .strategies import client_tables

# Examples per engine: each costs a dbt run, about 1 s on DuckDB and PostgreSQL and 3 s on Spark.
GENERATED_TABLES = {"duckdb": 12, "postgres": 6, "spark": 4}


def test_the_sample_mart_matches_the_reference_row_by_row(engine_sample_mart: Mart) -> None:
    mart = engine_sample_mart
    report = mart.verify()
    assert report.ok, report.describe()
    (mart_rows,) = mart.query(f"select count(*) from {relation(mart, 'client_priority')}")[0]
    (source_rows,) = mart.query(f"select count(*) from {source_relation(mart)}")[0]
    assert report.rows_compared == report.rows_matched == mart_rows
    assert report.rows_compared + report.rejects_compared == source_rows


def test_the_check_reports_every_mismatch_when_the_macro_uses_a_wrong_threshold(engine_empty_mart: Mart) -> None:
    # The mart is built with a tier-2 threshold of $6M; the reference keeps the $5M in dbt_project.yml.
    mart = engine_empty_mart
    mart.run(["seed", "--select", "clients"])
    mart.run(RUN_SCORING, {"tier_2_min_aum": "6000000"})
    report = mart.verify()
    assert not report.ok
    between = {
        client_id
        for (client_id,) in mart.query(
            f"select client_id from {relation(mart, 'client_priority')}"
            " where not is_sfo and aum >= 5000000 and aum < 6000000"
        )
    }
    assert between, "the sample must have clients between the two thresholds"
    tier_mismatches = {m.client_id for m in report.mismatches if m.column == "tier"}
    assert tier_mismatches == between
    mismatch = next(m for m in report.mismatches if m.column == "tier")
    assert (mismatch.mart_value, mismatch.reference_value) == ("TIER_3_RETAIL", "TIER_2_UHNW")
    assert {m.column for m in report.mismatches} >= {"tier", "priority", "tier_reason", "tier_label", "policy_version"}
    assert f"client_id={mismatch.client_id} column=tier" in report.describe(limit=10_000)


def test_a_client_missing_from_the_mart_or_added_to_it_is_a_failure(empty_mart: DuckDBMart) -> None:
    empty_mart.run(["build", "--exclude", "resource_type:test", "resource_type:unit_test"])
    import duckdb

    with duckdb.connect(str(empty_mart.db_path)) as connection:
        connection.execute("delete from main.client_priority where client_id = 'B004'")
        connection.execute(
            "insert into main.client_priority select * replace ('ZZZ999' as client_id) "
            "from main.client_priority where client_id = 'B001'"
        )
    report = empty_mart.verify()
    assert report.missing_in_mart == ["B004"]
    assert report.unexpected_in_mart == ["ZZZ999"]
    assert not report.ok


def test_a_reference_with_another_policy_disagrees_with_the_mart(sample_mart: DuckDBMart) -> None:
    stricter = PriorityScorer(load_policy(overrides={"qp_min_investments_entity": "30000000"}))
    report = sample_mart.verify(stricter)
    assert {m.column for m in report.mismatches} >= {"is_qualified_purchaser", "qp_threshold", "policy_version"}
    assert all(
        Decimal(str(m.mart_value)) == Decimal("25000000.00") for m in report.mismatches if m.column == "qp_threshold"
    )


def test_generated_client_tables_match_the_reference_row_by_row(engine: str, engine_generated_mart: Mart) -> None:
    mart = engine_generated_mart

    @settings(max_examples=examples(GENERATED_TABLES[engine]), deadline=None, phases=DBT_BACKED_PHASES)
    @given(table=client_tables)
    def check(table: list[dict[str, str | None]]) -> None:
        mart.load_source(table)
        mart.run(RUN_SCORING)
        report = mart.verify()
        assert report.ok, report.describe()
        assert report.rows_compared + report.rejects_compared == len(table)

    check()
