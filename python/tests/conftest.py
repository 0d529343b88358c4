"""Fixtures that build real DuckDB marts with dbt, in temporary folders, for the tests to read."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import Phase

from services.crm.client_priority import PriorityScorer
from services.crm.dbt_invocation import DbtProject
from services.crm.policy import find_project_dir
from services.crm.raw_clients import RAW_COLUMNS
from services.crm.verify import VerificationReport, verify_warehouse
from services.crm.warehouse import DuckDBWarehouse, Relations

PROJECT_DIR = find_project_dir()
SOURCE_RELATION = "main_raw.clients"
# `dbt run` of just the scoring models: the source, staging, validation, the mart and its rejects.
# The consumer marts and the tier history need a snapshot and are built by `dbt build`.
RUN_SCORING = ["run", "--select", "+client_priority", "+client_priority_rejects"]
# Every example of a dbt-backed property costs a dbt run, and shrinking a failure costs hundreds:
# the failure report already lists every mismatching row, so these tests do not shrink.
DBT_BACKED_PHASES = [Phase.explicit, Phase.reuse, Phase.generate]


@dataclass
class DuckDBMart:
    """A dbt build of the project into its own DuckDB file."""

    dbt: DbtProject
    db_path: Path

    def run(self, args: Sequence[str], dbt_vars: Mapping[str, Any] | None = None) -> Any:
        os.environ["CRM_PRIORITY_DB"] = str(self.db_path)
        return self.dbt.invoke(args, dbt_vars)

    def load_source(self, rows: Sequence[Mapping[str, str | None]], columns: Sequence[str] = RAW_COLUMNS[:-1]) -> None:
        """Replace the source table with `rows`, every column text, as a CRM export would land."""
        with duckdb.connect(str(self.db_path)) as connection:
            connection.execute("create schema if not exists main_raw")
            column_list = ", ".join(f"{column} varchar" for column in columns)
            connection.execute(f"create or replace table {SOURCE_RELATION} ({column_list})")
            if rows:
                placeholders = ", ".join("?" for _ in columns)
                connection.executemany(
                    f"insert into {SOURCE_RELATION} values ({placeholders})",
                    [[row.get(column) for column in columns] for row in rows],
                )

    def verify(self, scorer: PriorityScorer | None = None) -> VerificationReport:
        with DuckDBWarehouse(self.db_path) as warehouse:
            return verify_warehouse(warehouse, Relations.for_schemas(), scorer or PriorityScorer())

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.db_path), read_only=True) as connection:
            return connection.execute(sql).fetchall()


@pytest.fixture(scope="session")
def dbt_target_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One dbt target folder for the session, so partial parsing carries over between builds."""
    return tmp_path_factory.mktemp("dbt_target")


def new_mart(folder: Path, target_path: Path) -> DuckDBMart:
    dbt = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR / "profiles", target_path=target_path)
    return DuckDBMart(dbt=dbt, db_path=folder / "crm_priority.duckdb")


@pytest.fixture(scope="session")
def sample_mart(tmp_path_factory: pytest.TempPathFactory, dbt_target_path: Path) -> DuckDBMart:
    """The sample seed built and tested by `dbt build`, as `make build` does."""
    mart = new_mart(tmp_path_factory.mktemp("sample"), dbt_target_path)
    mart.run(["build"])
    return mart


@pytest.fixture
def empty_mart(tmp_path: Path, dbt_target_path: Path) -> DuckDBMart:
    """A fresh DuckDB file for a test to load its own source into."""
    return new_mart(tmp_path, dbt_target_path)


@pytest.fixture(scope="session")
def generated_mart(tmp_path_factory: pytest.TempPathFactory, dbt_target_path: Path) -> DuckDBMart:
    """One DuckDB file that hypothesis examples load their own source into, one after another.

    Reusing the file (and so the profile) keeps dbt's partial parsing between
    examples; a full parse costs seconds each time.
    """
    return new_mart(tmp_path_factory.mktemp("generated"), dbt_target_path)
