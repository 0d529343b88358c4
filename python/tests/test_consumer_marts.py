"""The widgets' marts, checked against the client_priority mart they are built from."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb

from services.crm.client_priority import TIERS

from .engines import DuckDBMart

EXPOSURES = {
    "crm_dashboard_client_list": "client_priority",
    "crm_dashboard_aum_distribution": "aum_distribution",
    "deal_center_allocation_modal": "allocation_queue",
    "client_onboarding_eligibility_wizard": "client_eligibility",
}

BAND_EDGES = [Decimal(edge) for edge in ("0", "1000000", "5000000", "25000000", "50000000", "100000000")]


def test_the_allocation_queue_orders_by_priority_then_aum_then_client_id(sample_mart: DuckDBMart) -> None:
    clients = sample_mart.query("select client_id, priority, aum, is_qualified_purchaser from main.client_priority")
    expected = sorted(clients, key=lambda row: (row[1], -row[2], row[0]))
    queue = sample_mart.query(
        "select client_id, allocation_rank, is_private_fund_eligible"
        " from main.allocation_queue order by allocation_rank"
    )
    assert [row[0] for row in queue] == [row[0] for row in expected]
    assert [row[1] for row in queue] == list(range(1, len(expected) + 1))
    eligible = {row[0] for row in clients if row[3]}
    assert {row[0] for row in queue if row[2]} == eligible


def test_the_aum_distribution_has_every_tier_and_band_and_every_client_once(sample_mart: DuckDBMart) -> None:
    cells = sample_mart.query(
        "select tier, band_order, band_min_aum, client_count, total_aum from main.aum_distribution"
    )
    assert sorted((tier, band) for tier, band, *_ in cells) == sorted(
        (tier, band) for tier in TIERS for band in range(1, len(BAND_EDGES) + 1)
    )
    expected: dict[tuple[str, int], list[Decimal]] = defaultdict(list)
    for tier, aum in sample_mart.query("select tier, aum from main.client_priority"):
        band = sum(1 for edge in BAND_EDGES if aum >= edge)
        expected[(tier, band)].append(aum)
    for tier, band, _, count, total in cells:
        assert count == len(expected[(tier, band)]), (tier, band)
        assert total == sum(expected[(tier, band)], Decimal(0)), (tier, band)
    assert any(count == 0 for *_, count, _ in cells), "zero-filled cells must be present, not missing"


def test_eligibility_shows_the_threshold_and_the_shortfall(sample_mart: DuckDBMart) -> None:
    rows = sample_mart.query(
        "select e.qp_amount_tested, e.qp_threshold, e.qp_shortfall, e.is_qualified_purchaser, p.qp_basis"
        " from main.client_eligibility e join main.client_priority p using (client_id)"
    )
    assert len(rows) == sample_mart.query("select count(*) from main.client_priority")[0][0]
    for amount, threshold, shortfall, qualified, basis in rows:
        assert shortfall == max(threshold - amount, Decimal(0))
        assert qualified == (shortfall == 0) == (basis is not None)


def test_the_tier_history_records_a_change_between_two_builds(empty_mart: DuckDBMart) -> None:
    empty_mart.run(["build", "--exclude", "resource_type:test", "resource_type:unit_test"])
    assert empty_mart.query("select count(*) from main.client_tier_changes") == [(0,)]
    with duckdb.connect(str(empty_mart.db_path)) as connection:
        # C0004 is a retail client; the CRM now reports $60M under management.
        (old,) = connection.execute("select tier from main.client_priority where client_id = 'C0004'").fetchone() or ()
        connection.execute("update main_raw.clients set aum = '60000000' where client_id = 'C0004'")
    empty_mart.run(["build", "--exclude", "resource_type:seed", "resource_type:test", "resource_type:unit_test"])
    changes = empty_mart.query(
        "select client_id, change_kind, old_tier, new_tier, old_priority, new_priority, changed_at is not null"
        " from main.client_tier_changes"
    )
    assert changes == [("C0004", "rescored", old, "TIER_1_SFO", 3, 1, True)]
    assert old == "TIER_3_RETAIL"
    versions = empty_mart.query("select count(*) from main.client_tier_history where client_id = 'C0004'")
    assert versions == [(2,)]


def test_every_mart_row_carries_its_policy_and_build_time(sample_mart: DuckDBMart) -> None:
    assert sample_mart.query(
        "select count(distinct policy_version), count(distinct scored_at), count(*) filter (where scored_at is null)"
        " from main.client_priority"
    ) == [(1, 1, 0)]


def test_dbt_docs_generate_shows_the_widgets_as_exposures(sample_mart: DuckDBMart, dbt_target_path: Path) -> None:
    sample_mart.run(["docs", "generate"])
    manifest = json.loads((dbt_target_path / "manifest.json").read_text(encoding="utf-8"))
    exposures = {
        node["name"]: [ref.split(".")[-1] for ref in node["depends_on"]["nodes"]]
        for node in manifest["exposures"].values()
    }
    assert exposures == {name: [model] for name, model in EXPOSURES.items()}
    catalog = json.loads((dbt_target_path / "catalog.json").read_text(encoding="utf-8"))
    assert {node.split(".")[-1] for node in catalog["nodes"]} >= set(EXPOSURES.values())
    assert (dbt_target_path / "index.html").is_file()
