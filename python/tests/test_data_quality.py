"""Every source row lands in the mart or in the rejects with a reason; nothing is dropped."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings

from services.crm.dbt_invocation import DbtCommandError
from services.crm.raw_clients import RAW_COLUMNS

from .conftest import DBT_BACKED_PHASES, RUN_SCORING, DuckDBMart
from .strategies import client_tables_with_updated_at

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


def test_dirty_rows_are_quarantined_with_their_reason_and_none_is_lost(empty_mart: DuckDBMart) -> None:
    empty_mart.load_source([row for row, _ in DIRTY_ROWS])
    empty_mart.run(RUN_SCORING)
    rejects = Counter(empty_mart.query("select reject_reason from main.client_priority_rejects"))
    assert rejects == Counter((reason,) for _, reason in DIRTY_ROWS if reason)
    assert empty_mart.query("select client_id from main.client_priority") == [("OK1",)]
    (counts,) = empty_mart.query(
        "select (select count(*) from main_raw.clients), (select count(*) from main.client_priority),"
        " (select count(*) from main.client_priority_rejects)"
    )
    assert counts[0] == counts[1] + counts[2] == len(DIRTY_ROWS)
    report = empty_mart.verify()
    assert report.ok, report.describe()


def test_rejects_keep_the_raw_values_as_received(empty_mart: DuckDBMart) -> None:
    empty_mart.load_source([{"client_id": " R1 ", "client_name": "Raw", "aum": " 12abc ", "is_sfo": "Maybe"}])
    empty_mart.run(RUN_SCORING)
    assert empty_mart.query(
        "select client_id, client_id_raw, aum_raw, is_sfo_raw from main.client_priority_rejects"
    ) == [("R1", " R1 ", " 12abc ", "Maybe")]


def test_updated_at_keeps_the_latest_copy_and_supersedes_the_older(empty_mart: DuckDBMart) -> None:
    rows: list[dict[str, str | None]] = [
        {"client_id": "M", "aum": "100", "updated_at": "2026-01-01"},
        {"client_id": "M", "aum": "60000000", "updated_at": "2026-06-01 09:30:00"},
        {"client_id": "T", "aum": "1", "updated_at": "2026-06-01"},
        {"client_id": "T", "aum": "2", "updated_at": "2026-06-01 00:00:00"},
    ]
    empty_mart.load_source(rows, columns=RAW_COLUMNS)
    empty_mart.run(RUN_SCORING)
    assert empty_mart.query("select client_id, aum, tier from main.client_priority") == [("M", 60000000, "TIER_1_SFO")]
    assert sorted(empty_mart.query("select client_id, aum_raw, reject_reason from main.client_priority_rejects")) == [
        ("M", "100", "superseded_by_newer_row"),
        ("T", "1", "duplicate_client_id"),
        ("T", "2", "duplicate_client_id"),
    ]
    assert empty_mart.verify().ok


@settings(max_examples=15, deadline=None, phases=DBT_BACKED_PHASES)
@given(table=client_tables_with_updated_at)
def test_generated_tables_with_updated_at_match_the_reference(
    generated_mart: DuckDBMart, table: list[dict[str, str | None]]
) -> None:
    generated_mart.load_source(table, columns=RAW_COLUMNS)
    generated_mart.run(RUN_SCORING)
    report = generated_mart.verify()
    assert report.ok, report.describe()
    assert report.rows_compared + report.rejects_compared == len(table)


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
