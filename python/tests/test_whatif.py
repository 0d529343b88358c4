"""`crm-priority whatif`: the proposal validated as the dbt vars are, and the book re-scored under it."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from services.crm.dbt_invocation import DbtCommandError
from services.crm.policy import PolicyError
from services.crm.whatif import WhatIfError, exact_group_sums, parse_settings, proposed_policy

from .conftest import MartFactory
from .engines import DuckDBMart
from .test_cli import crm_priority

RAISE_TIER_1 = "tier_1_min_aum=75000000"
# A proposed value and the var the message must name.
BAD_PROPOSALS = [
    ({"tier_1_min_aum": "1; drop table x"}, "tier_1_min_aum"),
    ({"qp_min_investments_entity": "-25000000"}, "qp_min_investments_entity"),
    ({"tier_2_min_aum": "60000000"}, "tier_1_min_aum"),  # Tier 1 no longer above Tier 2
]


def whatif(mart: DuckDBMart, *args: str) -> tuple[int, str, str]:
    completed = crm_priority("whatif", "--db", str(mart.db_path), *args)
    return completed.returncode, completed.stdout, completed.stderr


def test_whatif_has_help() -> None:
    completed = crm_priority("whatif", "--help")
    assert completed.returncode == 0
    assert "--set" in completed.stdout


def test_raising_tier_1_moves_the_clients_between_the_old_and_new_threshold_to_tier_2(sample_mart: DuckDBMart) -> None:
    code, out, err = whatif(sample_mart, "--set", RAISE_TIER_1, "--json")
    assert code == 0, err
    result = json.loads(out)
    cells = {(cell["current_tier"], cell["proposed_tier"]): cell for cell in result["transitions"]}
    assert len(cells) == 9
    moved = cells["TIER_1_SFO", "TIER_2_UHNW"]
    (count,) = sample_mart.query(
        "select count(*) from main.client_priority where not is_sfo and aum >= 50000000 and aum < 75000000"
    )[0]
    assert moved["client_count"] == count == result["changed_count"] > 0
    assert sum(cell["client_count"] for cell in cells.values()) == result["client_count"] == 303
    # The boundary client one cent over the old threshold moves; Tier 1 SFOs stay whatever their AUM.
    assert "B003" in {client["client_id"] for client in result["largest_changes"]}
    assert result["current_policy"]["policy_version"] == result["mart_policy_versions"][0]
    assert result["proposed_policy"]["tier_1_min_aum"] == "75000000.00"
    assert all(change["gained_count"] == change["lost_count"] == 0 for change in result["qualified_purchasers"])


def test_the_largest_changes_come_first_and_limit_caps_them(sample_mart: DuckDBMart) -> None:
    code, out, _ = whatif(sample_mart, "--set", RAISE_TIER_1, "--json", "--limit", "3")
    assert code == 0
    largest = json.loads(out)["largest_changes"]
    assert len(largest) == 3
    amounts = [Decimal(client["aum"]) for client in largest]
    assert amounts == sorted(amounts, reverse=True)


def test_lowering_the_person_threshold_gains_qualified_purchasers_by_category(sample_mart: DuckDBMart) -> None:
    code, out, _ = whatif(sample_mart, "--set", "qp_min_investments_person=4000000", "--json")
    assert code == 0
    by_category = {change["qp_category"]: change for change in json.loads(out)["qualified_purchasers"]}
    expected = dict(
        sample_mart.query(
            "select qp_category, count(*) from main.client_priority where not is_qualified_purchaser"
            " and qp_category != 'entity' and qp_amount_tested >= 4000000 group by all"
        )
    )
    assert {name: change["gained_count"] for name, change in by_category.items() if change["gained_count"]} == expected
    assert by_category["entity"]["gained_count"] == 0
    assert all(change["lost_count"] == 0 for change in by_category.values())


def test_the_table_output_shows_matrix_qp_changes_clients_and_both_policy_versions(sample_mart: DuckDBMart) -> None:
    code, out, _ = whatif(sample_mart, "--set", RAISE_TIER_1)
    assert code == 0
    for text in ("Tier transitions", "Qualified Purchaser status", "clients change tier or QP status", "B003"):
        assert text in out
    assert proposed_policy({}).version in out
    assert proposed_policy({"tier_1_min_aum": "75000000"}).version in out


def test_out_writes_every_changed_client(sample_mart: DuckDBMart, tmp_path: Path) -> None:
    target = tmp_path / "changes.csv"
    code, out, _ = whatif(
        sample_mart, "--set", "tier_2_min_aum=3000000", "--json", "--limit", "1", "--out", str(target)
    )
    assert code == 0
    result = json.loads(out)
    with target.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == result["changed_count"] > 1
    assert sum(Decimal(row["aum"]) for row in rows) == Decimal(result["changed_aum"])
    assert {(row["current_tier"], row["proposed_tier"]) for row in rows} == {("TIER_3_RETAIL", "TIER_2_UHNW")}


@pytest.mark.parametrize(("proposal", "named"), BAD_PROPOSALS)
def test_a_bad_proposal_exits_non_zero_naming_it(sample_mart: DuckDBMart, proposal: dict[str, str], named: str) -> None:
    ((name, value),) = proposal.items()
    code, out, err = whatif(sample_mart, "--set", f"{name}={value}")
    assert code == 2
    assert named in err
    assert not out


def test_proposals_are_refused_with_the_dbt_vars_own_messages(empty_mart: DuckDBMart) -> None:
    for proposal, _ in BAD_PROPOSALS:
        with pytest.raises(PolicyError) as python_error:
            proposed_policy(proposal)
        dbt_vars = {f"whatif_{name}": value for name, value in proposal.items()}
        with pytest.raises(DbtCommandError) as dbt_error:
            empty_mart.run(["compile", "--select", "policy_whatif_transitions"], dbt_vars)
        assert str(python_error.value) in " ".join(str(dbt_error.value).split())


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ("max_reject_share=0.5", "not a policy var"),
        ("tier1=5", "tier1: not a policy var"),
        ("tier_1_min_aum", "NAME=VALUE"),
    ],
)
def test_only_policy_vars_can_be_set(setting: str, problem: str) -> None:
    with pytest.raises(WhatIfError, match=problem):
        parse_settings([setting])
    completed = crm_priority("whatif", "--set", setting)
    assert completed.returncode == 2
    assert problem in completed.stderr


def test_money_sums_are_exact_at_any_size() -> None:
    cents = np.array([999_999_999_999_999_999, 999_999_999_999_999_999, 1, 12_345], dtype=np.int64)
    groups = np.array([0, 0, 0, 1], dtype=np.int64)
    assert exact_group_sums(groups, 2, cents) == [2 * 999_999_999_999_999_999 + 1, 12_345]


@pytest.mark.postgres
def test_whatif_on_postgres_gives_the_numbers_it_gives_on_duckdb(sample_mart: DuckDBMart, marts: MartFactory) -> None:
    # The same sample seed built on both engines: the same book, so the same answer, cell for cell.
    postgres = marts.sample("postgres")
    on_duckdb = json.loads(whatif(sample_mart, "--set", RAISE_TIER_1, "--set", "tier_2_min_aum=3000000", "--json")[1])
    completed = crm_priority(
        "whatif",
        "--target",
        "postgres",
        "--set",
        RAISE_TIER_1,
        "--set",
        "tier_2_min_aum=3000000",
        "--json",
        env={"CRM_PRIORITY_PG_SCHEMA": postgres.schema},
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    on_postgres = json.loads(completed.stdout)
    for key in ("transitions", "qualified_purchasers", "changed_count", "client_count", "proposed_policy"):
        assert on_postgres[key] == on_duckdb[key], key
    assert on_postgres["changed_count"] > 0
