"""The vectorized batch check gives exactly the scalar reference's report, on generated tables and real marts."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from services.crm.batch_verify import verify_duckdb
from services.crm.client_priority import PriorityScorer
from services.crm.raw_clients import RAW_COLUMNS, RawClient, validate_clients
from services.crm.verify import VerificationReport, verify_row_by_row
from services.crm.warehouse import DuckDBWarehouse, Relations

from .strategies import client_tables, client_tables_with_updated_at, plain_client_tables

SCORER = PriorityScorer()


class BuiltMart(Protocol):
    """What these tests need of the sample_mart fixture: the DuckDB file dbt built."""

    db_path: Path


RELATIONS = Relations.for_schemas()
MART_COLUMNS = (
    "client_id varchar, client_name varchar, aum decimal(18, 2), investments decimal(18, 2), is_sfo boolean,"
    " investor_type varchar, tier varchar, tier_label varchar, priority integer, tier_reason varchar,"
    " qp_category varchar, qp_amount_tested decimal(18, 2), qp_threshold decimal(18, 2),"
    " is_qualified_purchaser boolean, qp_basis varchar, policy_version varchar, scored_at timestamp"
)
REJECT_COLUMNS = "client_id varchar, reject_reason varchar, client_name varchar, aum_raw varchar, is_sfo_raw varchar,"
REJECT_COLUMNS += " investor_type_raw varchar"
# One way to get each mart column wrong, as a SQL expression of the row.
TAMPERINGS = {
    "client_name": "coalesce(client_name, '') || 'x'",
    "aum": "aum + 0.01",
    "investments": "case when investments is null then aum else null end",
    "is_sfo": "not is_sfo",
    "investor_type": "case when investor_type = 'entity' then 'individual' else 'entity' end",
    "tier": "case when tier = 'TIER_3_RETAIL' then 'TIER_2_UHNW' else 'TIER_3_RETAIL' end",
    "tier_label": "'Tier 9'",
    "priority": "priority + 1",
    "tier_reason": "null",
    "qp_category": "'entity '",
    "qp_amount_tested": "qp_amount_tested - 0.01",
    "qp_threshold": "qp_threshold * 2",
    "is_qualified_purchaser": "not is_qualified_purchaser",
    "qp_basis": "case when qp_basis is null then qp_category else null end",
    "policy_version": "'policy-000000000000'",
}


class ConnectionWarehouse:
    """The Warehouse protocol over an open connection, for the scalar path."""

    text_type = "varchar"

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection = connection

    def rows(self, sql: str) -> Iterator[dict[str, object]]:
        result = self.connection.execute(sql)
        names = [column[0].lower() for column in result.description or []]
        for values in result.fetchall():
            yield dict(zip(names, values, strict=True))

    def columns(self, relation: str) -> list[str]:
        return [str(row[0]).lower() for row in self.connection.execute(f"describe {relation}").fetchall()]


def mart_from_reference(table: list[dict[str, str | None]], columns: tuple[str, ...]) -> duckdb.DuckDBPyConnection:
    """A warehouse whose mart and rejects are what the scalar reference says they should be (no dbt)."""
    connection = duckdb.connect(":memory:")
    connection.execute("create schema main_raw")
    connection.execute(f"create table main_raw.clients ({', '.join(f'{column} varchar' for column in columns)})")
    if table:
        connection.executemany(
            f"insert into main_raw.clients values ({', '.join('?' for _ in columns)})",
            [[row.get(column) for column in columns] for row in table],
        )
    valid, rejected = validate_clients(RawClient.from_mapping(row) for row in table)
    connection.execute(f"create table main.client_priority ({MART_COLUMNS})")
    for client in valid:
        profile: dict[str, Any] = dict(SCORER.score(client))
        values = [client.client_id, client.client_name, *(profile[name] for name in list(profile))]
        names = ["client_id", "client_name", *profile]
        connection.execute(
            f"insert into main.client_priority ({', '.join(names)}, scored_at)"
            f" values ({', '.join('?' for _ in names)}, now())",
            values,
        )
    connection.execute(f"create table main.client_priority_rejects ({REJECT_COLUMNS})")
    for reject in rejected:
        raw = reject.raw
        connection.execute(
            "insert into main.client_priority_rejects values (?, ?, nullif(trim(?), ''), ?, ?, ?)",
            [reject.client_id, reject.reject_reason, raw.client_name, raw.aum, raw.is_sfo, raw.investor_type],
        )
    return connection


def normalized(report: VerificationReport) -> dict[str, object]:
    """The report with its lists in one order: the two paths visit rows in different orders."""
    return {
        "rows_compared": report.rows_compared,
        "rows_matched": report.rows_matched,
        "mismatches": sorted(report.mismatches, key=repr),
        "missing_in_mart": sorted(report.missing_in_mart),
        "unexpected_in_mart": sorted(report.unexpected_in_mart),
        "duplicated_in_mart": sorted(report.duplicated_in_mart),
        "rejects_compared": report.rejects_compared,
        "missing_in_rejects": sorted(report.missing_in_rejects, key=repr),
        "unexpected_in_rejects": sorted(report.unexpected_in_rejects, key=repr),
    }


def both_paths(connection: duckdb.DuckDBPyConnection) -> tuple[VerificationReport, VerificationReport]:
    scalar = verify_row_by_row(ConnectionWarehouse(connection), RELATIONS, SCORER)
    return scalar, verify_duckdb(connection, RELATIONS, SCORER)


tamperings = st.lists(
    st.tuples(
        st.sampled_from([*TAMPERINGS, "delete", "duplicate", "unexpected", "drop_reject", "extra_reject"]),
        st.integers(min_value=0, max_value=1000),
    ),
    max_size=4,
)


def tamper(connection: duckdb.DuckDBPyConnection, how: str, pick: int) -> None:
    (rows,) = connection.execute("select count(*) from main.client_priority").fetchall()[0]
    (rejects,) = connection.execute("select count(*) from main.client_priority_rejects").fetchall()[0]
    nth = f"(select client_id from main.client_priority order by client_id limit 1 offset {pick % max(rows, 1)})"
    if how in TAMPERINGS:
        connection.execute(f"update main.client_priority set {how} = {TAMPERINGS[how]} where client_id = {nth}")
    elif how == "delete":
        connection.execute(f"delete from main.client_priority where client_id = {nth}")
    elif how == "duplicate":
        connection.execute(
            f"insert into main.client_priority select * from main.client_priority where client_id = {nth}"
        )
    elif how == "unexpected":
        connection.execute(
            "insert into main.client_priority select * replace ('NEW' || client_id as client_id)"
            f" from main.client_priority where client_id = {nth}"
        )
    elif how == "drop_reject" and rejects:
        connection.execute(
            "delete from main.client_priority_rejects where rowid ="
            f" (select rowid from main.client_priority_rejects order by rowid limit 1 offset {pick % rejects})"
        )
    elif how == "extra_reject":
        connection.execute(
            "insert into main.client_priority_rejects values ('GHOST', 'aum_missing', null, null, null, null)"
        )


@settings(max_examples=60, deadline=None)
@given(table=client_tables, tampering=tamperings)
def test_the_batch_path_reports_exactly_what_the_scalar_path_reports(
    table: list[dict[str, str | None]], tampering: list[tuple[str, int]]
) -> None:
    with mart_from_reference(table, RAW_COLUMNS[:-1]) as connection:
        for how, pick in tampering:
            tamper(connection, how, pick)
        scalar, batch = both_paths(connection)
    assert normalized(batch) == normalized(scalar)
    assert batch.ok == (scalar.ok)


@settings(max_examples=30, deadline=None)
@given(table=client_tables_with_updated_at, tampering=tamperings)
def test_the_batch_path_agrees_with_the_scalar_path_when_updated_at_picks_the_copy(
    table: list[dict[str, str | None]], tampering: list[tuple[str, int]]
) -> None:
    with mart_from_reference(table, RAW_COLUMNS) as connection:
        for how, pick in tampering:
            tamper(connection, how, pick)
        scalar, batch = both_paths(connection)
    assert normalized(batch) == normalized(scalar)


# The report tests above would pass even if the vectorized reference were wrong: a wrong
# fingerprint only sends its bucket to the scalar path, which then agrees with the mart. These two
# prove the vectorized reference itself equals the scalar one on the rows it vouches for.


@settings(max_examples=60, deadline=None)
@given(table=client_tables)
def test_the_vectorized_reference_agrees_with_the_scalar_one_on_every_row_it_vouches_for(
    table: list[dict[str, str | None]],
) -> None:
    with mart_from_reference(table, RAW_COLUMNS[:-1]) as connection:
        report = verify_duckdb(connection, RELATIONS, SCORER)
    assert report.ok, report.describe()
    assert report.buckets_rechecked == 0


@settings(max_examples=60, deadline=None)
@given(table=plain_client_tables())
def test_the_batch_path_vouches_for_every_well_formed_row_itself(table: list[dict[str, str | None]]) -> None:
    with mart_from_reference(table, RAW_COLUMNS[:-1]) as connection:
        report = verify_duckdb(connection, RELATIONS, SCORER)
        connection.execute("update main.client_priority set tier_label = 'Tier 9' where client_id = 'P0'")
        tampered = verify_duckdb(connection, RELATIONS, SCORER)
    assert report.ok, report.describe()
    assert (report.rows_vouched, report.buckets_rechecked) == (len(table), 0)
    assert [(m.client_id, m.column) for m in tampered.mismatches] == [("P0", "tier_label")]
    assert tampered.buckets_rechecked == 1


def test_an_untouched_reference_mart_passes_both_paths() -> None:
    table: list[dict[str, str | None]] = [
        {
            "client_id": f"C{index}",
            "client_name": f"Client {index}",
            "aum": f"{index * 1_000_003}.07",
            "is_sfo": "false",
        }
        for index in range(200)
    ]
    with mart_from_reference(table, RAW_COLUMNS[:-1]) as connection:
        scalar, batch = both_paths(connection)
    assert scalar.ok, scalar.describe()
    assert normalized(batch) == normalized(scalar)
    assert batch.rows_compared == batch.rows_matched == 200


def test_a_tier_changed_by_sql_in_a_dbt_built_mart_is_the_one_mismatch(sample_mart: BuiltMart, tmp_path: Path) -> None:
    copy = tmp_path / "tampered.duckdb"
    shutil.copy(sample_mart.db_path, copy)
    with duckdb.connect(str(copy)) as connection:
        (client_id, tier) = connection.execute(
            "select client_id, tier from main.client_priority where tier = 'TIER_3_RETAIL' order by client_id limit 1"
        ).fetchall()[0]
        connection.execute(f"update main.client_priority set tier = 'TIER_1_SFO' where client_id = '{client_id}'")
    with DuckDBWarehouse(copy) as warehouse:
        report = verify_duckdb(warehouse.connection, RELATIONS, SCORER)
    assert [(m.client_id, m.column, m.mart_value, m.reference_value) for m in report.mismatches] == [
        (client_id, "tier", "TIER_1_SFO", tier)
    ]
    assert report.rows_matched == report.rows_compared - 1
    assert not report.missing_in_mart
    assert not report.unexpected_in_mart
    assert not report.unexpected_in_rejects


def test_the_batch_path_matches_the_scalar_path_on_the_sample_mart(sample_mart: BuiltMart) -> None:
    with DuckDBWarehouse(sample_mart.db_path) as warehouse:
        batch = verify_duckdb(warehouse.connection, RELATIONS, SCORER)
        scalar = verify_row_by_row(warehouse, RELATIONS, SCORER)
    assert batch.ok, batch.describe()
    assert normalized(batch) == normalized(scalar)


def test_money_is_compared_to_the_cent(sample_mart: BuiltMart, tmp_path: Path) -> None:
    copy = tmp_path / "cent.duckdb"
    shutil.copy(sample_mart.db_path, copy)
    with duckdb.connect(str(copy)) as connection:
        (client_id,) = connection.execute("select min(client_id) from main.client_priority").fetchall()[0]
        connection.execute(f"update main.client_priority set aum = aum + 0.01 where client_id = '{client_id}'")
    with DuckDBWarehouse(copy) as warehouse:
        report = verify_duckdb(warehouse.connection, RELATIONS, SCORER)
    (mismatch,) = report.mismatches
    assert (mismatch.client_id, mismatch.column) == (client_id, "aum")
    assert isinstance(mismatch.mart_value, Decimal)
    assert mismatch.mart_value - mismatch.reference_value == Decimal("0.01")  # type: ignore[operator]
