"""The policy what-if gives the same numbers in dbt (analyses/policy_whatif_*.sql) and in `crm-priority whatif`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from services.crm.policy import POLICY_VAR_NAMES, Policy, load_policy
from services.crm.warehouse import DuckDBWarehouse
from services.crm.whatif import WhatIfResult, proposed_policy, what_if

from .conftest import DBT_BACKED_PHASES, RUN_SCORING, examples
from .engines import DuckDBMart, relation

CURRENT = load_policy()
CENT = Decimal("0.01")
ANALYSES = ("policy_whatif_transitions", "policy_whatif_qualified_purchasers", "policy_whatif_changed_clients")
# Each example costs two dbt invocations (build the mart, compile the analyses), ~5 s on DuckDB.
EXAMPLES = 5


@st.composite
def proposals(draw: st.DrawFn) -> dict[str, str]:
    """One to four thresholds moved (Tier 1 kept above Tier 2), as `--set` and the whatif_* vars take them."""
    moves = st.one_of(
        st.sampled_from([Decimal(-1_000_000), Decimal(-CENT), CENT, Decimal(2_500_000), Decimal(25_000_000)]),
        st.decimals(min_value=-4_000_000, max_value=50_000_000, places=2),
    )
    names = draw(st.lists(st.sampled_from(POLICY_VAR_NAMES), min_size=1, max_size=4, unique=True))
    amounts = {name: CURRENT.amount(name) for name in POLICY_VAR_NAMES}
    for name in names:
        amounts[name] = max(amounts[name] + draw(moves), CENT)
    if amounts["tier_1_min_aum"] <= amounts["tier_2_min_aum"]:
        amounts["tier_1_min_aum"] = amounts["tier_2_min_aum"] + draw(st.sampled_from([CENT, Decimal(10_000_000)]))
    return {name: f"{amounts[name]:.2f}" for name in POLICY_VAR_NAMES if amounts[name] != CURRENT.amount(name)}


def edges(policies: list[Policy]) -> list[Decimal]:
    """Every threshold of every policy, and a cent either side."""
    return sorted(
        {
            policy.amount(name) + offset
            for policy in policies
            for name in POLICY_VAR_NAMES
            for offset in (-CENT, 0, CENT)
        }
    )


@st.composite
def books_and_proposals(draw: st.DrawFn) -> tuple[list[dict[str, str | None]], dict[str, str]]:
    """A client book with clients exactly at the old and the new thresholds (and a cent off), SFOs,
    every investor type, investments above, below and equal to AUM or unknown, and the proposal."""
    proposal = draw(proposals())
    at_edges = st.sampled_from(edges([CURRENT, proposed_policy(proposal)]))
    amounts = st.one_of(at_edges, at_edges, st.decimals(min_value=0, max_value=200_000_000, places=2))
    rows = []
    for index in range(draw(st.integers(min_value=1, max_value=40))):
        aum = draw(amounts)
        investments = draw(st.one_of(st.none(), amounts, st.just(aum)))
        rows.append(
            {
                "client_id": f"W{index:03d}",
                "client_name": draw(st.one_of(st.none(), st.sampled_from(["Ada", "Iyer Family Office", "Acme LP"]))),
                "aum": f"{aum:f}",
                "is_sfo": draw(st.sampled_from(["true", "false", "", "no", "Yes"])),
                "investor_type": draw(st.sampled_from(["individual", "family_company", "entity", ""])),
                "investments": None if investments is None else f"{investments:f}",
            }
        )
    return rows, proposal


def dbt_what_if(mart: DuckDBMart, proposal: dict[str, str]) -> dict[str, list[tuple[Any, ...]]]:
    """The three analyses compiled by dbt with the proposal as whatif_* vars, run on the mart's file."""
    dbt_vars = {f"whatif_{name}": value for name, value in proposal.items()}
    mart.run(["compile", "--select", *ANALYSES], dbt_vars)
    assert mart.dbt.target_path is not None
    compiled = mart.dbt.target_path / "compiled" / "crm_priority" / "analyses"
    with duckdb.connect(str(mart.db_path), read_only=True) as connection:
        return {name: connection.execute((compiled / f"{name}.sql").read_text()).fetchall() for name in ANALYSES}


def python_what_if(mart: DuckDBMart, proposal: dict[str, str]) -> tuple[WhatIfResult, list[tuple[Any, ...]]]:
    changed: list[pa.Table] = []
    with DuckDBWarehouse(mart.db_path) as warehouse:
        result = what_if(
            warehouse, relation(mart, "client_priority"), proposed_policy(proposal), limit=5, on_changed=changed.append
        )
    rows = [tuple(row.values()) for table in changed for row in table.to_pylist()]
    return result, sorted(rows, key=lambda row: (-row[2], row[0]))


def test_dbt_and_the_cli_give_identical_what_ifs_on_generated_books(empty_mart: DuckDBMart) -> None:
    mart = empty_mart

    @settings(max_examples=examples(EXAMPLES), deadline=None, phases=DBT_BACKED_PHASES)
    @given(case=books_and_proposals())
    def check(case: tuple[list[dict[str, str | None]], dict[str, str]]) -> None:
        book, proposal = case
        mart.load_source(book)
        # The same vars as the compile below, so dbt parses the project once per example.
        mart.run(RUN_SCORING, {f"whatif_{name}": value for name, value in proposal.items()})
        sql = dbt_what_if(mart, proposal)
        result, changed_rows = python_what_if(mart, proposal)
        version = result.proposed_policy.version

        assert sql["policy_whatif_transitions"] == [
            (cell.current_tier, cell.proposed_tier, cell.client_count, cell.total_aum, version)
            for cell in sorted(result.transitions, key=lambda cell: (cell.current_tier, cell.proposed_tier))
        ]
        assert sql["policy_whatif_qualified_purchasers"] == [
            (*vars(change).values(), version)
            for change in sorted(result.qualified_purchasers, key=lambda change: change.qp_category)
        ]
        assert sql["policy_whatif_changed_clients"] == changed_rows
        assert result.changed_count == len(changed_rows)
        assert result.changed_aum == sum((row[2] for row in changed_rows), Decimal(0))
        assert [tuple(vars(client).values()) for client in result.largest_changes] == changed_rows[:5]
        assert result.client_count == len(book)

    check()
