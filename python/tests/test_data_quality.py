"""Every source row lands in the mart or in the rejects with a reason, on every engine; nothing is dropped."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings

from services.crm.dbt_invocation import DbtCommandError
from services.crm.raw_clients import RAW_COLUMNS

from .conftest import DBT_BACKED_PHASES, RUN_SCORING, examples
from .engines import DuckDBMart, Mart, relation, source_relation
from .strategies import client_tables_with_updated_at

# Examples per engine: each costs a dbt run, about 1 s on DuckDB and PostgreSQL and 3 s on Spark.
GENERATED_TABLES_WITH_UPDATED_AT = {"duckdb": 8, "postgres": 5, "spark": 3}

# One dirty row per reason the issue names (and a few the feed really sends).
DIRTY_ROWS: list[tuple[dict[str, str | None], str | None]] = [
    ({"client_id": "OK1", "aum": "6000000", "is_sfo": "no", "investor_type": "entity"}, None),
    ({"client_id": None, "aum": "1"}, "client_id_missing"),
    ({"client_id": "   ", "aum": "1"}, "client_id_missing"),
    ({"client_id": "A1", "aum": None}, "aum_missing"),
    ({"client_id": "A2", "aum": "abc"}, "aum_not_numeric"),
    ({"client_id": "A3", "aum": "NaN"}, "aum_not_finite"),
    ({"client_id": "A4", "aum": "-inf"}, "aum_not_finite"),
    ({"client_id": "A5", "aum": "-100"}, "aum_negative"),
    ({"client_id": "A6", "aum": "1e400"}, "aum_out_of_range"),
    ({"client_id": "A7", "aum": "1", "investments": "-5"}, "investments_negative"),
    ({"client_id": "A8", "aum": "1", "investments": "n/a"}, "investments_not_numeric"),
    ({"client_id": "A9", "aum": "1", "is_sfo": "maybe"}, "is_sfo_not_boolean"),
    ({"client_id": "A10", "aum": "1", "investor_type": "partnership"}, "investor_type_unknown"),
    ({"client_id": "D1", "aum": "1"}, "duplicate_client_id"),
    ({"client_id": "D1", "aum": "2"}, "duplicate_client_id"),
]


def test_dirty_rows_are_quarantined_with_their_reason_and_none_is_lost(engine_empty_mart: Mart) -> None:
    mart = engine_empty_mart
    mart.load_source([row for row, _ in DIRTY_ROWS])
    mart.run(RUN_SCORING)
    rejects = Counter(mart.query(f"select reject_reason from {relation(mart, 'client_priority_rejects')}"))
    assert rejects == Counter((reason,) for _, reason in DIRTY_ROWS if reason)
    assert mart.query(f"select client_id from {relation(mart, 'client_priority')}") == [("OK1",)]
    (counts,) = mart.query(
        f"select (select count(*) from {source_relation(mart)}),"
        f" (select count(*) from {relation(mart, 'client_priority')}),"
        f" (select count(*) from {relation(mart, 'client_priority_rejects')})"
    )
    assert counts[0] == counts[1] + counts[2] == len(DIRTY_ROWS)
    report = mart.verify()
    assert report.ok, report.describe()


def test_rejects_keep_the_raw_values_as_received(engine_empty_mart: Mart) -> None:
    mart = engine_empty_mart
    mart.load_source([{"client_id": " R1 ", "client_name": "Raw", "aum": " 12abc ", "is_sfo": "Maybe"}])
    mart.run(RUN_SCORING)
    assert mart.query(
        f"select client_id, client_id_raw, aum_raw, is_sfo_raw from {relation(mart, 'client_priority_rejects')}"
    ) == [("R1", " R1 ", " 12abc ", "Maybe")]


def test_updated_at_keeps_the_latest_copy_and_supersedes_the_older(engine_empty_mart: Mart) -> None:
    mart = engine_empty_mart
    rows: list[dict[str, str | None]] = [
        {"client_id": "M", "aum": "100", "updated_at": "2026-01-01"},
        {"client_id": "M", "aum": "60000000", "updated_at": "2026-06-01 09:30:00"},
        {"client_id": "T", "aum": "1", "updated_at": "2026-06-01"},
        {"client_id": "T", "aum": "2", "updated_at": "2026-06-01 00:00:00"},
    ]
    mart.load_source(rows, columns=RAW_COLUMNS)
    mart.run(RUN_SCORING)
    assert mart.query(f"select client_id, aum, tier from {relation(mart, 'client_priority')}") == [
        ("M", 60000000, "TIER_1_SFO")
    ]
    rejects = mart.query(f"select client_id, aum_raw, reject_reason from {relation(mart, 'client_priority_rejects')}")
    assert sorted(rejects) == [
        ("M", "100", "superseded_by_newer_row"),
        ("T", "1", "duplicate_client_id"),
        ("T", "2", "duplicate_client_id"),
    ]
    assert mart.verify().ok


def test_generated_tables_with_updated_at_match_the_reference(engine: str, engine_generated_mart: Mart) -> None:
    mart = engine_generated_mart

    @settings(max_examples=examples(GENERATED_TABLES_WITH_UPDATED_AT[engine]), deadline=None, phases=DBT_BACKED_PHASES)
    @given(table=client_tables_with_updated_at)
    def check(table: list[dict[str, str | None]]) -> None:
        mart.load_source(table, columns=RAW_COLUMNS)
        mart.run(RUN_SCORING)
        report = mart.verify()
        assert report.ok, report.describe()
        assert report.rows_compared + report.rejects_compared == len(table)

    check()


def test_the_sample_build_passes_with_its_handful_of_rejects(sample_mart: DuckDBMart) -> None:
    (share,) = sample_mart.query(
        "select (select count(*) from main.client_priority_rejects) * 1.0 / (select count(*) from main_raw.clients)"
    )[0]
    assert 0 < share <= 0.05


def test_a_feed_with_too_many_rejects_fails_the_build(empty_mart: DuckDBMart) -> None:
    rows: list[dict[str, str | None]] = [{"client_id": f"G{i}", "aum": "100"} for i in range(18)]
    rows += [{"client_id": "B1", "aum": "junk"}, {"client_id": "B2", "aum": "junk"}]  # 10% rejected
    empty_mart.load_source(rows)
    empty_mart.run(RUN_SCORING)
    with pytest.raises(DbtCommandError, match="reject_share_within_limit"):
        empty_mart.run(
            ["test", "--select", "client_priority", "client_priority_rejects", "--indirect-selection", "cautious"]
        )
    empty_mart.run(
        ["test", "--select", "client_priority", "client_priority_rejects", "--indirect-selection", "cautious"],
        {"max_reject_share": "0.10"},
    )
