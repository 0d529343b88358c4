"""The batch check gives exactly the scalar reference's report on every engine, for generated tables and real marts."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from services.crm.arrow_check import EngineFingerprints, verify_batches
from services.crm.client_priority import PriorityScorer
from services.crm.duckdb_reader import DuckDBBatchReader
from services.crm.queries import coded_mart_select
from services.crm.raw_clients import RAW_COLUMNS, RawClient, validate_clients
from services.crm.scalar_check import expected_reject_key, verify_row_by_row
from services.crm.spark_check import spark_string
from services.crm.vectorized_reference import NULL_CODE, PACKED_COLUMNS, UNKNOWN_CODE, Labels, reference_batch
from services.crm.verification_report import COMPARED_COLUMNS, REJECT_KEY_COLUMNS, VerificationReport
from services.crm.verify import verify_warehouse
from services.crm.warehouse import (
    ClosingWarehouse,
    DuckDBWarehouse,
    PostgresWarehouse,
    Relations,
    SparkWarehouse,
    resolve_target,
    spark_session,
)

from .conftest import examples
from .engines import PROFILES_DIR, DuckDBMart, Mart, PostgresMart, SparkMart
from .strategies import client_tables, client_tables_with_updated_at, plain_client_tables

SCORER = PriorityScorer()
# Hypothesis examples per engine: each costs a few queries on DuckDB, a few round trips on
# PostgreSQL, and several Spark jobs (seconds) on Spark.
EXAMPLES = {"duckdb": 30, "postgres": 8, "spark": 1}
MONEY = ("aum", "investments", "qp_amount_tested", "qp_threshold")
MART_TYPES = {
    "duckdb": {"text": "varchar", "money": "decimal(18, 2)", "bool": "boolean", "int": "integer"},
    "postgres": {"text": "text", "money": "numeric(18, 2)", "bool": "boolean", "int": "integer"},
    "spark": {"text": "string", "money": "decimal(18, 2)", "bool": "boolean", "int": "int"},
}
Row = dict[str, Any]


def mart_column_kind(column: str) -> str:
    if column in MONEY:
        return "money"
    if column in ("is_sfo", "is_qualified_purchaser"):
        return "bool"
    return "int" if column == "priority" else "text"


# One way to get each mart column wrong.
TAMPERINGS: dict[str, Callable[[Row], object]] = {
    "client_name": lambda row: (row["client_name"] or "") + "x",
    "aum": lambda row: row["aum"] + Decimal("0.01"),
    "investments": lambda row: row["aum"] if row["investments"] is None else None,
    "is_sfo": lambda row: not row["is_sfo"],
    "investor_type": lambda row: "individual" if row["investor_type"] == "entity" else "entity",
    "tier": lambda row: "TIER_2_UHNW" if row["tier"] == "TIER_3_RETAIL" else "TIER_3_RETAIL",
    "tier_label": lambda row: "Tier 9",
    "priority": lambda row: row["priority"] + 1,
    "tier_reason": lambda row: None,
    "qp_category": lambda row: "entity ",
    "qp_amount_tested": lambda row: row["qp_amount_tested"] - Decimal("0.01"),
    "qp_threshold": lambda row: row["qp_threshold"] * 2,
    "is_qualified_purchaser": lambda row: not row["is_qualified_purchaser"],
    "qp_basis": lambda row: row["qp_category"] if row["qp_basis"] is None else None,
    "policy_version": lambda row: "policy-000000000000",
}
REJECT_TAMPERINGS: dict[str, Callable[[Row], object]] = {
    "reject_reason": lambda row: "aum_negative" if row["reject_reason"] != "aum_negative" else "aum_missing",
    "client_id_raw": lambda row: (row["client_id_raw"] or "") + " ",
    "aum_raw": lambda row: None if row["aum_raw"] else "0",
    "investments_raw": lambda row: (row["investments_raw"] or "") + "0",
    "updated_at_raw": lambda row: "2026-01-01" if row["updated_at_raw"] is None else None,
}
ROW_TAMPERINGS = ("delete", "duplicate", "unexpected", "drop_reject", "extra_reject")


@dataclass
class ReferenceTables:
    """A source table and the mart and rejects the scalar reference says it should give."""

    columns: tuple[str, ...]
    source: list[Row]
    mart: list[Row]
    rejects: list[Row]


def reference_tables(table: list[dict[str, str | None]], columns: tuple[str, ...]) -> ReferenceTables:
    valid, rejected = validate_clients(RawClient.from_mapping(row) for row in table)
    mart = [
        {"client_id": client.client_id, "client_name": client.client_name, **SCORER.score(client)} for client in valid
    ]
    rejects = [dict(zip(REJECT_KEY_COLUMNS, expected_reject_key(reject), strict=True)) for reject in rejected]
    return ReferenceTables(columns, [{column: row.get(column) for column in columns} for row in table], mart, rejects)


def tamper(tables: ReferenceTables, how: str, pick: int) -> None:
    mart = sorted(tables.mart, key=lambda row: str(row["client_id"]))
    row = mart[pick % len(mart)] if mart else None
    if how in TAMPERINGS and row is not None:
        row[how] = TAMPERINGS[how](row)
    elif how in REJECT_TAMPERINGS and tables.rejects:
        reject = tables.rejects[pick % len(tables.rejects)]
        reject[how] = REJECT_TAMPERINGS[how](reject)
    elif how == "delete" and row is not None:
        tables.mart.remove(row)
    elif how == "duplicate" and row is not None:
        tables.mart.append(dict(row))
    elif how == "unexpected" and row is not None:
        tables.mart.append({**row, "client_id": f"NEW{row['client_id']}"})
    elif how == "drop_reject" and tables.rejects:
        del tables.rejects[pick % len(tables.rejects)]
    elif how == "extra_reject":
        tables.rejects.append(
            {**dict.fromkeys(REJECT_KEY_COLUMNS), "client_id": "GHOST", "reject_reason": "aum_missing"}
        )


class Loader:
    """Loads ReferenceTables into one engine and opens a warehouse on them."""

    def __init__(self, engine: str, place: Any) -> None:
        self.engine = engine
        self.place = place
        self.numbers = itertools.count()
        self.types = MART_TYPES[engine]

    def mart_ddl(self) -> list[tuple[str, str]]:
        return [(column, self.types[mart_column_kind(column)]) for column in ("client_id", *COMPARED_COLUMNS)]

    def load(self, tables: ReferenceTables) -> tuple[ClosingWarehouse, Relations]:
        if self.engine == "duckdb":
            return self._load_duckdb(tables)
        if self.engine == "postgres":
            return self._load_postgres(tables)
        return self._load_spark(tables)

    def _layout(self, tables: ReferenceTables) -> list[tuple[str, list[tuple[str, str]], list[Row]]]:
        text = self.types["text"]
        return [
            ("clients", [(column, text) for column in tables.columns], tables.source),
            ("client_priority", self.mart_ddl(), tables.mart),
            ("client_priority_rejects", [(column, text) for column in REJECT_KEY_COLUMNS], tables.rejects),
        ]

    def _load_duckdb(self, tables: ReferenceTables) -> tuple[ClosingWarehouse, Relations]:
        path = Path(self.place) / f"reference_{next(self.numbers)}.duckdb"
        with duckdb.connect(str(path)) as connection:
            for name, columns, rows in self._layout(tables):
                connection.execute(f"create table {name} ({', '.join(f'{c} {t}' for c, t in columns)})")
                if rows:
                    placeholders = ", ".join("?" for _ in columns)
                    values = [[row.get(column) for column, _ in columns] for row in rows]
                    connection.executemany(f"insert into {name} values ({placeholders})", values)
        return DuckDBWarehouse(path), Relations("clients", "client_priority", "client_priority_rejects")

    def _load_postgres(self, tables: ReferenceTables) -> tuple[ClosingWarehouse, Relations]:
        import psycopg2
        from psycopg2.extras import execute_values

        target = resolve_target(PROFILES_DIR, "postgres")
        schema = f"reference_{next(self.numbers)}"
        connection = psycopg2.connect(
            host=target["host"], port=target["port"], user=target["user"], dbname=target["dbname"]
        )
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"create schema {schema}")
                for name, columns, rows in self._layout(tables):
                    cursor.execute(f"create table {schema}.{name} ({', '.join(f'{c} {t}' for c, t in columns)})")
                    if rows:
                        values = [tuple(row.get(column) for column, _ in columns) for row in rows]
                        execute_values(cursor, f"insert into {schema}.{name} values %s", values)
        finally:
            connection.close()
        relations = Relations(f"{schema}.clients", f"{schema}.client_priority", f"{schema}.client_priority_rejects")
        return PostgresWarehouse(target), relations

    def _load_spark(self, tables: ReferenceTables) -> tuple[ClosingWarehouse, Relations]:
        warehouse = SparkWarehouse(resolve_target(PROFILES_DIR, "spark"))
        run = next(self.numbers)
        # Temporary views: the check reads any relation, and nothing is written to disk.
        for name, columns, rows in self._layout(tables):
            schema = ", ".join(f"{c} {t}" for c, t in columns)
            values = [tuple(row.get(column) for column, _ in columns) for row in rows]
            warehouse.session.createDataFrame(values, schema).createOrReplaceTempView(f"{name}_{run}")
        return warehouse, Relations(f"clients_{run}", f"client_priority_{run}", f"client_priority_rejects_{run}")


@pytest.fixture(scope="session")
def loader(engine: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Loader:
    if engine == "postgres":
        request.getfixturevalue("postgres_server")
    if engine == "spark":
        request.getfixturevalue("spark_warehouse")
    return Loader(engine, tmp_path_factory.mktemp(f"reference_{engine}"))


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


def both_paths(loader: Loader, tables: ReferenceTables) -> tuple[VerificationReport, VerificationReport]:
    warehouse, relations = loader.load(tables)
    with warehouse:
        scalar = verify_row_by_row(warehouse, relations, SCORER)  # type: ignore[arg-type]
        batch = verify_warehouse(warehouse, relations, SCORER)  # type: ignore[arg-type]
    return scalar, batch


def batch_only(loader: Loader, tables: ReferenceTables) -> VerificationReport:
    warehouse, relations = loader.load(tables)
    with warehouse:
        return verify_warehouse(warehouse, relations, SCORER)  # type: ignore[arg-type]


tamperings = st.lists(
    st.tuples(
        st.sampled_from([*TAMPERINGS, *REJECT_TAMPERINGS, *ROW_TAMPERINGS]),
        st.integers(min_value=0, max_value=1000),
    ),
    max_size=4,
)
# No shrinking: a failure's report already names every differing row, and shrinking costs minutes.
HYPOTHESIS = settings(
    deadline=None, suppress_health_check=[HealthCheck.too_slow], phases=[Phase.explicit, Phase.reuse, Phase.generate]
)


def test_the_batch_path_reports_exactly_what_the_scalar_path_reports(engine: str, loader: Loader) -> None:
    @settings(HYPOTHESIS, max_examples=examples(EXAMPLES[engine]))
    @given(table=client_tables, tampering=tamperings)
    def check(table: list[dict[str, str | None]], tampering: list[tuple[str, int]]) -> None:
        tables = reference_tables(table, RAW_COLUMNS[:-1])
        for how, pick in tampering:
            tamper(tables, how, pick)
        scalar, batch = both_paths(loader, tables)
        assert normalized(batch) == normalized(scalar)
        assert batch.ok == scalar.ok

    check()


def test_a_mart_wrong_everywhere_is_reported_without_reading_it_all_back(engine: str, loader: Loader) -> None:
    """Past the recheck limit the differing buckets are counted, not read: a widely wrong mart at 10M
    would otherwise hold both whole sides in memory (22 GB for 2M wrong rows, measured)."""
    clients = 300
    table: list[dict[str, str | None]] = [
        {
            "client_id": f"C{number:04d}",
            "client_name": f"Client {number}",
            "aum": f"{number * 100_000}.00",
            "is_sfo": "false",
            "investor_type": "individual",
            "investments": None,
        }
        for number in range(clients)
    ]
    tables = reference_tables(table, RAW_COLUMNS[:-1])
    for row in tables.mart:
        row["tier_label"] = f"{row['tier_label']}!"
    warehouse, relations = loader.load(tables)
    with warehouse:
        bounded = verify_warehouse(warehouse, relations, SCORER, recheck_rows=40)  # type: ignore[arg-type]
        whole = verify_warehouse(warehouse, relations, SCORER)  # type: ignore[arg-type]
    assert not bounded.ok
    mismatched = {mismatch.client_id for mismatch in bounded.mismatches}
    assert 0 < len(mismatched) < clients / 2
    assert bounded.buckets_unchecked > 0
    assert len(mismatched) + bounded.clients_unchecked == clients
    assert "not compared row by row" in bounded.describe()
    assert whole.buckets_unchecked == 0
    assert {mismatch.client_id for mismatch in whole.mismatches} == {row["client_id"] for row in tables.mart}


class PythonHashedMart(DuckDBBatchReader):
    """DuckDB as the check sees it when DuckDB's hash() is not the one `fingerprints` computes."""

    def engine_fingerprints(self, relation: str, labels: Labels) -> EngineFingerprints | None:
        return None


def test_duckdb_reports_the_same_with_the_mart_hashed_in_python(tmp_path: Path) -> None:
    """The path a DuckDB whose hash() differed would take (`duckdb_reader.hashes_agree`): same report."""
    loader = Loader("duckdb", tmp_path)

    @settings(HYPOTHESIS, max_examples=examples(10))
    @given(table=client_tables, tampering=tamperings)
    def check(table: list[dict[str, str | None]], tampering: list[tuple[str, int]]) -> None:
        tables = reference_tables(table, RAW_COLUMNS[:-1])
        for how, pick in tampering:
            tamper(tables, how, pick)
        warehouse, relations = loader.load(tables)
        with warehouse:
            assert isinstance(warehouse, DuckDBWarehouse)
            scalar = verify_row_by_row(warehouse, relations, SCORER)
            in_python = verify_batches(PythonHashedMart(warehouse.connection), relations, SCORER)
            in_sql = verify_batches(DuckDBBatchReader(warehouse.connection), relations, SCORER)
        assert normalized(in_python) == normalized(scalar) == normalized(in_sql)

    check()


def test_the_batch_path_agrees_with_the_scalar_path_when_updated_at_picks_the_copy(engine: str, loader: Loader) -> None:
    @settings(HYPOTHESIS, max_examples=examples(max(EXAMPLES[engine] // 2, 1)))
    @given(table=client_tables_with_updated_at, tampering=tamperings)
    def check(table: list[dict[str, str | None]], tampering: list[tuple[str, int]]) -> None:
        tables = reference_tables(table, RAW_COLUMNS)
        for how, pick in tampering:
            tamper(tables, how, pick)
        scalar, batch = both_paths(loader, tables)
        assert normalized(batch) == normalized(scalar)

    check()


# The report tests above would pass even if the vectorized reference were wrong: a wrong
# fingerprint only sends its bucket to the scalar path, which then agrees with the mart. These
# prove the vectorized reference itself equals the scalar one on the rows it vouches for.


def test_the_vectorized_reference_agrees_with_the_scalar_one_on_every_row_it_vouches_for(
    engine: str, loader: Loader
) -> None:
    @settings(HYPOTHESIS, max_examples=examples(EXAMPLES[engine]))
    @given(table=client_tables)
    def check(table: list[dict[str, str | None]]) -> None:
        report = batch_only(loader, reference_tables(table, RAW_COLUMNS[:-1]))
        assert report.ok, report.describe()
        assert report.buckets_rechecked == 0

    check()


def test_the_batch_path_vouches_for_every_well_formed_row_itself(engine: str, loader: Loader) -> None:
    @settings(HYPOTHESIS, max_examples=examples(EXAMPLES[engine]))
    @given(table=plain_client_tables())
    def check(table: list[dict[str, str | None]]) -> None:
        tables = reference_tables(table, RAW_COLUMNS[:-1])
        report = batch_only(loader, tables)
        tamper(tables, "tier_label", 0)
        tampered = batch_only(loader, tables)
        assert report.ok, report.describe()
        assert (report.rows_vouched, report.buckets_rechecked) == (len(table), 0)
        assert [(m.client_id, m.column) for m in tampered.mismatches] == [("P0", "tier_label")]
        assert tampered.buckets_rechecked == 1

    check()


@pytest.mark.parametrize(
    "padded",
    ["\tC1", "C1\t", "\u00a0C1", "C1\u00a0", "\u3000C1", "C1\u3000", "C1\n", "\u2003C1", "Cé1"],
)
def test_the_vectorized_parser_vouches_only_for_plain_ascii_text(padded: str) -> None:
    ids = [padded, "C1", "C 1", " C1", None, ""]
    plain = dict.fromkeys(RAW_COLUMNS, pa.array(["1"] * len(ids), pa.string())) | {
        "client_id": pa.array(ids, pa.string()),
        "is_sfo": pa.array(["false"] * len(ids), pa.string()),
        "investor_type": pa.array(["individual"] * len(ids), pa.string()),
        "updated_at": pa.nulls(len(ids), pa.string()),
    }
    vouched = reference_batch(pa.record_batch(plain), SCORER.policy).vouched
    assert vouched.tolist() == [False, True, True, False, False, False]


def test_an_untouched_reference_mart_passes_both_paths(engine: str, loader: Loader) -> None:
    table: list[dict[str, str | None]] = [
        {
            "client_id": f"C{index}",
            "client_name": f"Client {index}",
            "aum": f"{index * 1_000_003}.07",
            "is_sfo": "false",
        }
        for index in range(200)
    ]
    scalar, batch = both_paths(loader, reference_tables(table, RAW_COLUMNS[:-1]))
    assert scalar.ok, scalar.describe()
    assert normalized(batch) == normalized(scalar)
    assert batch.rows_compared == batch.rows_matched == batch.rows_vouched == 200


def mart_warehouse(mart: Mart) -> ClosingWarehouse:
    if isinstance(mart, DuckDBMart):
        return DuckDBWarehouse(mart.db_path)
    if isinstance(mart, PostgresMart):
        return PostgresWarehouse(mart.target())
    assert isinstance(mart, SparkMart)
    return SparkWarehouse(mart.target())


def test_the_batch_path_matches_the_scalar_path_on_the_sample_mart(engine_sample_mart: Mart) -> None:
    relations = Relations.for_schemas(engine_sample_mart.schema)
    with mart_warehouse(engine_sample_mart) as warehouse:
        batch = verify_warehouse(warehouse, relations, SCORER)  # type: ignore[arg-type]
        scalar = verify_row_by_row(warehouse, relations, SCORER)  # type: ignore[arg-type]
    assert batch.ok, batch.describe()
    assert batch.rows_vouched > 0
    assert normalized(batch) == normalized(scalar)


def test_money_is_compared_to_the_cent(engine: str, loader: Loader) -> None:
    table: list[dict[str, str | None]] = [
        {"client_id": f"C{index}", "client_name": None, "aum": f"{index}000000.00", "is_sfo": "no"}
        for index in range(20)
    ]
    tables = reference_tables(table, RAW_COLUMNS[:-1])
    tamper(tables, "aum", 3)
    report = batch_only(loader, tables)
    (mismatch,) = report.mismatches
    assert (mismatch.client_id, mismatch.column) == ("C11", "aum")
    assert isinstance(mismatch.mart_value, Decimal)
    assert mismatch.mart_value - mismatch.reference_value == Decimal("0.01")  # type: ignore[operator]


@pytest.mark.spark
def test_spark_codes_labels_with_quotes_and_backslashes_exactly(spark_warehouse: Path) -> None:
    # Spark reads backslash escapes inside string literals: a label must reach it byte for byte.
    tricky = ("it's", "back\\slash", "\\'both", "Tier 1 — Single Family Office / $50M+", "")
    labels = dataclasses.replace(Labels.for_policy(SCORER.policy), tier_labels=tricky)
    values = [*tricky, "it''s", "back\\\\slash", "its", None]
    session = spark_session(resolve_target(PROFILES_DIR, "spark"))
    names = ("client_id", *COMPARED_COLUMNS)
    columns = ", ".join(f"{name} {MART_TYPES['spark'][mart_column_kind(name)]}" for name in names)
    rows = [tuple(value if name == "tier_label" else None for name in names) for value in values]
    session.createDataFrame(rows, columns).createOrReplaceTempView("tricky_labels")
    coded = session.sql(coded_mart_select("tricky_labels", labels, spark_string)).collect()
    shift = 4 * PACKED_COLUMNS.index("tier_label")
    codes = [(int(row["packed_codes"]) >> shift) & 15 for row in coded]
    assert codes == [0, 1, 2, 3, 4, UNKNOWN_CODE, UNKNOWN_CODE, UNKNOWN_CODE, NULL_CODE]
