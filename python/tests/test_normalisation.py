"""One rule for whitespace, case, amounts and timestamps: the mart and the reference agree on every engine.

The spellings are what real exports carry (docs/decisions/0007-text-normalisation.md). Each
engine test builds the mart with dbt and compares it with the reference row by row on the
scalar path, whose parsing is the rule itself.
"""

from __future__ import annotations

import random
import re
from typing import Any

import duckdb
import pytest
import yaml
from hypothesis import given, settings

from services.crm.client_priority import PriorityScorer
from services.crm.dbt_invocation import DbtCommandError
from services.crm.policy import POLICY_VAR_NAMES, PolicyError, load_policy
from services.crm.raw_clients import RAW_COLUMNS, clean_text, parse_amount_text, parse_timestamp_text
from services.crm.verify import VerificationReport, verify_row_by_row
from services.crm.warehouse import DuckDBWarehouse, Relations

from .conftest import DBT_BACKED_PHASES, RUN_SCORING, examples
from .engines import PROJECT_DIR, DuckDBMart, Mart, PostgresMart, SparkMart, relation, source_relation
from .strategies import TRIMMED_SPACES, unicode_client_tables

# Examples per engine: each costs a dbt run, about 1 s on DuckDB and PostgreSQL and 3 s on Spark.
GENERATED_UNICODE_TABLES = {"duckdb": 6, "postgres": 3, "spark": 2}
# Amount spellings in the one-build fuzz, per engine: one dbt run whatever the size.
FUZZED_AMOUNTS = {"duckdb": 4000, "postgres": 3000, "spark": 1500}
NBSP = "\u00a0"


def verify_scalar(mart: Mart, scorer: PriorityScorer | None = None) -> VerificationReport:
    """The row-by-row check on the scalar path on every engine (DuckDB's default is the batch path)."""
    scorer = scorer or PriorityScorer()
    if isinstance(mart, DuckDBMart):
        with DuckDBWarehouse(mart.db_path) as warehouse:
            return verify_row_by_row(warehouse, Relations.for_schemas(mart.schema), scorer)
    return mart.verify(scorer)


def rejects_by_client(mart: Mart) -> dict[str | None, str]:
    rows = mart.query(f"select client_id_raw, reject_reason from {relation(mart, 'client_priority_rejects')}")
    return dict(rows)


# ---------- the rule itself, in Python


@pytest.mark.parametrize("space", TRIMMED_SPACES)
def test_every_listed_whitespace_is_trimmed_from_both_ends(space: str) -> None:
    assert clean_text(f"{space}{space}x y{space}") == "x y"


@pytest.mark.parametrize("kept", ["\u200b", "\x85", "\u180e", "\x1c"])
def test_characters_outside_the_list_are_kept(kept: str) -> None:
    assert clean_text(f"{kept}x{kept}") == f"{kept}x{kept}"


def test_amounts_are_decided_by_their_spelling() -> None:
    assert parse_amount_text("0.000000000000000000000000000000000000005e45") == 5_000_000
    assert parse_amount_text("-0.004") == 0
    assert parse_amount_text("0e900") == 0


def test_zoned_timestamps_are_read_in_utc() -> None:
    assert str(parse_timestamp_text("2026-01-01T10:00:00+02:00")) == "2026-01-01 08:00:00"
    assert str(parse_timestamp_text("2026-01-01 10:00:00Z")) == "2026-01-01 10:00:00"
    assert str(parse_timestamp_text("2026-01-01 00:30:00.123456789-05")) == "2026-01-01 05:30:00.123456"
    assert parse_timestamp_text("0001-01-01 00:00+01") is None


def test_the_var_list_in_sql_is_the_one_in_dbt_project_yml() -> None:
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    macro = (PROJECT_DIR / "macros" / "policy" / "project_var_names.sql").read_text(encoding="utf-8")
    listed = set(re.findall(r"'([a-z_0-9]+)'", macro.split("policy_var_names()")[1]))
    assert listed | set(POLICY_VAR_NAMES) == set(project["vars"])


def test_an_unknown_override_is_refused_by_name() -> None:
    with pytest.raises(PolicyError, match="tier1_min_aum"):
        load_policy(overrides={"tier1_min_aum": "4000000.00"})


# ---------- the mart on every engine

UNICODE_ROWS: list[tuple[dict[str, str | None], str | None]] = [
    ({"client_id": "NB01", "aum": f"{NBSP}6000000", "is_sfo": "false"}, None),
    ({"client_id": "NB02", "aum": "100", "is_sfo": f"{NBSP}yes"}, None),
    ({"client_id": f"NB03{NBSP}", "client_name": f"Ann{NBSP}", "aum": "\u30006000000\t"}, None),
    ({"client_id": "NB04", "aum": "100", "investor_type": "ENTİTY"}, "investor_type_unknown"),
    ({"client_id": "NB05", "aum": "100", "is_sfo": "ｙｅｓ"}, "is_sfo_not_boolean"),
    ({"client_id": "NB06", "aum": "１００"}, "aum_not_numeric"),
    ({"client_id": "NB07", "aum": "100\u200b"}, "aum_not_numeric"),
    ({"client_id": "NB08", "aum": "0.000000000000000000000000000000000000005e45"}, None),
    ({"client_id": "NB09", "aum": "-0.000000000000000000000000000000000000005e45"}, "aum_negative"),
    ({"client_id": "NB10", "aum": "\ufeff1E+7 ", "investor_type": "\u2003Entity\u2003"}, None),
]


def test_unicode_whitespace_and_case_follow_one_rule(engine_empty_mart: Mart) -> None:
    mart = engine_empty_mart
    mart.load_source([row for row, _ in UNICODE_ROWS])
    mart.run(RUN_SCORING)
    assert rejects_by_client(mart) == {row["client_id"]: reason for row, reason in UNICODE_ROWS if reason}
    published = dict(mart.query(f"select client_id, tier from {relation(mart, 'client_priority')}"))
    assert published == {
        "NB01": "TIER_2_UHNW",
        "NB02": "TIER_1_SFO",
        "NB03": "TIER_2_UHNW",
        "NB08": "TIER_2_UHNW",
        "NB10": "TIER_2_UHNW",
    }
    report = verify_scalar(mart)
    assert report.ok, report.describe()


def test_generated_unicode_tables_match_the_reference(engine: str, engine_generated_mart: Mart) -> None:
    mart = engine_generated_mart

    @settings(max_examples=examples(GENERATED_UNICODE_TABLES[engine]), deadline=None, phases=DBT_BACKED_PHASES)
    @given(table=unicode_client_tables)
    def check(table: list[dict[str, str | None]]) -> None:
        mart.load_source(table, columns=RAW_COLUMNS)
        mart.run(RUN_SCORING)
        report = verify_scalar(mart)
        assert report.ok, report.describe()
        assert report.rows_compared + report.rejects_compared == len(table)

    check()


def test_fuzzed_amount_spellings_match_the_reference(engine: str, engine_empty_mart: Mart) -> None:
    """Thousands of spellings of the amount grammar in one build: the same value or the same reason."""
    rng = random.Random(14)
    spellings = [_random_spelling(rng) for _ in range(FUZZED_AMOUNTS[engine])]
    rows: list[dict[str, str | None]] = [
        {"client_id": f"F{index}", "aum": spelling, "investments": spellings[-index - 1] if index % 3 == 0 else None}
        for index, spelling in enumerate(spellings)
    ]
    mart = engine_empty_mart
    mart.load_source(rows)
    mart.run(RUN_SCORING)
    report = verify_scalar(mart)
    assert report.ok, report.describe()
    assert report.rows_compared + report.rejects_compared == len(rows)


def _random_spelling(rng: random.Random) -> str:
    """One spelling of the amount grammar, seeded, so CI fuzzes the same values every run."""
    whole = "".join(rng.choice("0123456789") for _ in range(rng.choice([0, 1, 2, 5, 10, 16, 17, 20, 36, 37])))
    fraction = "".join(rng.choice("0123456789") for _ in range(rng.choice([0, 1, 2, 3, 4, 10, 40, 60])))
    mantissa = "0" * rng.choice([0, 0, 1, 3, 20, 40]) + whole
    kind = rng.random()
    if kind < 0.3 and fraction:
        mantissa += "." + fraction
    elif kind < 0.4:
        mantissa += "."
    elif kind < 0.5 and fraction:
        mantissa = "." + fraction
    if mantissa in ("", "."):
        mantissa = "0"
    if rng.random() < 0.5:
        exponent = rng.choice([0, 1, 2, 5, 15, 16, 17, 30, 45, 60, 100, 999, 1000, rng.randrange(0, 1200)])
        mantissa += rng.choice("eE") + rng.choice(["", "+", "-"]) + "0" * rng.choice([0, 0, 2]) + str(exponent)
    return rng.choice(["", "", "+", "-"]) + mantissa


TYPED_TIMESTAMPS = {
    "duckdb": ["timestamp", "timestamptz", "timestamp_ns"],
    "postgres": ["timestamp", "timestamptz"],
    "spark": ["timestamp"],
}


def load_typed_source(mart: Mart, rows: list[dict[str, Any]], updated_at_type: str) -> None:
    """The source with every column text but updated_at, which is `updated_at_type`, cast from the rows' text."""
    mart.load_source(rows, columns=RAW_COLUMNS)
    source = source_relation(mart)
    retype = f"alter table {source} alter column updated_at type {updated_at_type} using updated_at::{updated_at_type}"
    if isinstance(mart, DuckDBMart):
        with duckdb.connect(str(mart.db_path)) as connection:
            connection.execute(f"alter table {source} alter column updated_at type {updated_at_type}")
    elif isinstance(mart, PostgresMart):
        connection = mart.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(retype)
        finally:
            connection.close()
    elif isinstance(mart, SparkMart):
        frame = mart.session.table(source)
        typed = frame.withColumn("updated_at", frame["updated_at"].cast(updated_at_type))
        typed.write.format("parquet").mode("overwrite").saveAsTable(f"{source}_typed")
        mart.session.sql(f"drop table {source}")
        mart.session.sql(f"alter table {source}_typed rename to {source}")


@pytest.mark.parametrize("index", range(3))
def test_typed_and_zoned_timestamps_are_compared_in_utc(engine: str, engine_empty_mart: Mart, index: int) -> None:
    if index >= len(TYPED_TIMESTAMPS[engine]):
        pytest.skip(f"{engine} has {len(TYPED_TIMESTAMPS[engine])} timestamp types")
    updated_at_type = TYPED_TIMESTAMPS[engine][index]
    # A zoned type (and Spark's timestamp, an instant) reads the offset; a plain one would drop it.
    zoned = updated_at_type == "timestamptz" or engine == "spark"
    rows: list[dict[str, Any]] = [
        {"client_id": "Z", "aum": "100", "updated_at": "2026-06-01 09:00:00+02" if zoned else "2026-06-01 07:00:00"},
        {"client_id": "Z", "aum": "9000000", "updated_at": "2026-06-01 08:00:00+00"},
        {"client_id": "Y", "aum": "1", "updated_at": "2026-06-01 10:00:00.123456789"},
        {"client_id": "Y", "aum": "2", "updated_at": "2026-06-01 10:00:00.123457"},
    ]
    if updated_at_type != "timestamp_ns":  # the other types hold microseconds (and round, on PostgreSQL)
        rows[2]["updated_at"] = "2026-06-01 10:00:00.123456"
    mart = engine_empty_mart
    load_typed_source(mart, rows, updated_at_type)
    mart.run(RUN_SCORING)
    assert dict(mart.query(f"select client_id, aum from {relation(mart, 'client_priority')}")) == {
        "Z": 9000000,
        "Y": 2,
    }
    report = verify_scalar(mart)
    assert report.ok, report.describe()


def test_zoned_timestamp_text_is_compared_in_utc(engine_empty_mart: Mart) -> None:
    mart = engine_empty_mart
    rows: list[dict[str, str | None]] = [
        {"client_id": "Z", "aum": "100", "updated_at": "2026-06-01T09:00:00+02:00"},
        {"client_id": "Z", "aum": "9000000", "updated_at": "2026-06-01T08:00:00Z"},
        {"client_id": "W", "aum": "1", "updated_at": f"{NBSP}2026-06-01 10:00-05:30"},  # 15:30 UTC
        {"client_id": "W", "aum": "2", "updated_at": "2026-06-01 15:29:59Z"},
        # The newest copy is unreadable: no copy may be published, the $100 one least of all.
        {"client_id": "X", "aum": "9000000", "updated_at": "2026-02-30"},
        {"client_id": "X", "aum": "100", "updated_at": "2026-01-01"},
    ]
    mart.load_source(rows, columns=RAW_COLUMNS)
    mart.run(RUN_SCORING)
    assert sorted(mart.query(f"select client_id, aum from {relation(mart, 'client_priority')}")) == [
        ("W", 1),
        ("Z", 9000000),
    ]
    ambiguous = mart.query(
        f"select reject_reason from {relation(mart, 'client_priority_rejects')} where client_id = 'X'"
    )
    assert ambiguous == [("updated_at_ambiguous",), ("updated_at_ambiguous",)]
    report = verify_scalar(mart)
    assert report.ok, report.describe()


# ---------- the policy and the build


def test_an_overridden_policy_builds_and_verifies(engine_empty_mart: Mart) -> None:
    overrides = {"tier_2_min_aum": "4000000.00", "qp_min_investments_entity": "30000000.00"}
    mart = engine_empty_mart
    mart.run(["seed", "--select", "clients"])
    # build: the models, their data tests and the unit tests, which pin the policy they assume.
    build = ["build", "--select", "+client_priority", "+client_priority_rejects", "--indirect-selection", "cautious"]
    mart.run(build, overrides)
    report = verify_scalar(mart, PriorityScorer(load_policy(overrides=overrides)))
    assert report.ok, report.describe()


def test_an_unknown_var_stops_the_build_naming_it(empty_mart: DuckDBMart) -> None:
    with pytest.raises(DbtCommandError, match="tier1_min_aum"):
        empty_mart.run(["run", "--select", "stg_crm__clients"], {"tier1_min_aum": "4000000.00"})


def test_the_reject_share_failure_names_the_leading_reasons(empty_mart: DuckDBMart) -> None:
    rows: list[dict[str, str | None]] = [{"client_id": f"G{i}", "aum": "100"} for i in range(18)]
    rows += [{"client_id": "B1", "aum": "junk"}, {"client_id": "B2", "aum": "1e"}, {"client_id": "B3", "is_sfo": "?"}]
    empty_mart.load_source(rows)
    empty_mart.run(RUN_SCORING)
    with pytest.raises(DbtCommandError, match=r"3 of 21 source rows .*aum_not_numeric: 2, aum_missing: 1"):
        empty_mart.run(
            ["test", "--select", "client_priority", "client_priority_rejects", "--indirect-selection", "cautious"]
        )
