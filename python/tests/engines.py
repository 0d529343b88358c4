"""The project built by dbt on each engine (DuckDB, PostgreSQL, Spark), behind one interface the tests share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import duckdb

from services.crm.client_priority import PriorityScorer
from services.crm.dbt_invocation import DbtProject, environment
from services.crm.pipeline import Publisher
from services.crm.policy import find_project_dir
from services.crm.postgres_publish import PostgresPublisher
from services.crm.publication import checksum_of
from services.crm.publish import SNAPSHOT_NAME, DuckDBPublisher, mart_checksum
from services.crm.raw_clients import RAW_COLUMNS
from services.crm.spark_publish import SparkPublisher
from services.crm.verify import VerificationReport, verify_warehouse
from services.crm.warehouse import (
    DuckDBWarehouse,
    PostgresWarehouse,
    Relations,
    SparkWarehouse,
    resolve_target,
    spark_session,
)

PROJECT_DIR = find_project_dir()
PROFILES_DIR = PROJECT_DIR / "profiles"
# Without updated_at: the shape of the sample seed.
SEED_COLUMNS = RAW_COLUMNS[:-1]


class Mart(Protocol):
    """One dbt build of the project on one engine, in a place of its own (a file or a schema)."""

    engine: str
    schema: str
    dbt: DbtProject

    def run(self, args: Sequence[str], dbt_vars: Mapping[str, Any] | None = None) -> Any: ...

    def load_source(
        self,
        rows: Sequence[Mapping[str, str | None]],
        columns: Sequence[str] = SEED_COLUMNS,
        relation: str | None = None,
    ) -> None: ...

    def verify(self, scorer: PriorityScorer | None = None) -> VerificationReport: ...

    def query(self, sql: str) -> list[tuple[Any, ...]]: ...

    def publisher(self) -> Publisher:
        """The engine's write-audit-publish scheme for this mart's place."""
        ...

    def env(self) -> dict[str, str]:
        """The environment profiles.yml needs to point dbt at this mart's place."""
        ...

    def published(self) -> tuple[int, str]:
        """Row count and checksum of the client_priority readers see now (as the publisher computes it)."""
        ...


def relation(mart: Mart, name: str) -> str:
    """A model's relation in the mart's schema."""
    return f"{mart.schema}.{name}"


def source_relation(mart: Mart) -> str:
    """The client table: the seed's schema is the target schema plus `_raw`."""
    return f"{mart.schema}_raw.clients"


def text_rows(rows: Sequence[Mapping[str, str | None]], columns: Sequence[str]) -> list[tuple[str | None, ...]]:
    return [tuple(row.get(column) for column in columns) for row in rows]


@dataclass
class DuckDBMart:
    """A dbt build of the project into its own DuckDB file."""

    dbt: DbtProject
    db_path: Path
    engine: str = "duckdb"
    schema: str = "main"

    def env(self) -> dict[str, str]:
        return {"CRM_PRIORITY_DB": str(self.db_path)}

    def run(self, args: Sequence[str], dbt_vars: Mapping[str, Any] | None = None) -> Any:
        with environment(self.env()):
            return self.dbt.invoke(args, dbt_vars)

    def load_source(
        self,
        rows: Sequence[Mapping[str, str | None]],
        columns: Sequence[str] = SEED_COLUMNS,
        relation: str | None = None,
    ) -> None:
        """Replace the source table with `rows`, every column text, as a CRM export would land."""
        source = relation or source_relation(self)
        with duckdb.connect(str(self.db_path)) as connection:
            connection.execute(f"create schema if not exists {source.rpartition('.')[0]}")
            column_list = ", ".join(f"{column} varchar" for column in columns)
            connection.execute(f"create or replace table {source} ({column_list})")
            if rows:
                placeholders = ", ".join("?" for _ in columns)
                connection.executemany(f"insert into {source} values ({placeholders})", text_rows(rows, columns))

    def verify(self, scorer: PriorityScorer | None = None) -> VerificationReport:
        with DuckDBWarehouse(self.db_path) as warehouse:
            return verify_warehouse(warehouse, Relations.for_schemas(self.schema), scorer or PriorityScorer())

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.db_path), read_only=True) as connection:
            return connection.execute(sql).fetchall()

    @property
    def publish_dir(self) -> Path:
        return self.db_path.parent / "published"

    def publisher(self) -> Publisher:
        return DuckDBPublisher(self.db_path, self.publish_dir, self.db_path.parent / "operators", self.schema)

    def published(self) -> tuple[int, str]:
        snapshot = self.publish_dir / SNAPSHOT_NAME
        if not snapshot.exists():
            return (0, "")
        with duckdb.connect(str(snapshot), read_only=True) as connection:
            (count,) = connection.execute("select count(*) from client_priority").fetchone() or (0,)
            return int(count), mart_checksum(connection, "client_priority")


@dataclass
class SchemaMart:
    """A dbt build into a schema of its own on a shared server: profiles.yml takes the schema from `schema_env`."""

    dbt: DbtProject
    schema: str
    engine = ""
    schema_env = ""

    def env(self) -> dict[str, str]:
        return {self.schema_env: self.schema}

    def target(self) -> dict[str, Any]:
        with environment(self.env()):
            return resolve_target(PROFILES_DIR, self.engine)

    def run(self, args: Sequence[str], dbt_vars: Mapping[str, Any] | None = None) -> Any:
        # Tests build straight into their own schema on purpose (the write-audit-publish tests
        # go through the pipeline instead), so they name it as the build schema.
        with environment(self.env()):
            return self.dbt.invoke(args, {"crm_build_schema": self.schema, **(dbt_vars or {})})


@dataclass
class PostgresMart(SchemaMart):
    """A dbt build into its own schema of the test session's PostgreSQL server."""

    engine = "postgres"
    schema_env = "CRM_PRIORITY_PG_SCHEMA"

    def connect(self) -> Any:
        import psycopg2

        target = self.target()
        connection = psycopg2.connect(
            host=target["host"],
            port=target["port"],
            user=target["user"],
            password=target.get("password") or "",
            dbname=target["dbname"],
        )
        connection.autocommit = True
        return connection

    def load_source(
        self,
        rows: Sequence[Mapping[str, str | None]],
        columns: Sequence[str] = SEED_COLUMNS,
        relation: str | None = None,
    ) -> None:
        from psycopg2.extras import execute_values

        source = relation or source_relation(self)
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"create schema if not exists {source.rpartition('.')[0]}")
                # cascade: the staging view reads the table; the next dbt run recreates it.
                cursor.execute(f"drop table if exists {source} cascade")
                cursor.execute(f"create table {source} ({', '.join(f'{column} text' for column in columns)})")
                if rows:
                    execute_values(cursor, f"insert into {source} values %s", text_rows(rows, columns))
        finally:
            connection.close()

    def verify(self, scorer: PriorityScorer | None = None) -> VerificationReport:
        with PostgresWarehouse(self.target()) as warehouse:
            return verify_warehouse(warehouse, Relations.for_schemas(self.schema), scorer or PriorityScorer())

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return [tuple(row) for row in cursor.fetchall()]
        finally:
            connection.close()

    def publisher(self) -> Publisher:
        return PostgresPublisher(self.target())

    def published(self) -> tuple[int, str]:
        if not self.query(
            f"select 1 from pg_tables where schemaname = '{self.schema}' and tablename = 'client_priority'"
        ):
            return (0, "")
        ((count, total),) = self.query(PostgresPublisher.checksum_sql(self.schema))
        return int(count), checksum_of(count, total)


@dataclass
class SparkMart(SchemaMart):
    """A dbt build into its own database of the test process's Spark session (one JVM for the whole run)."""

    engine = "spark"
    schema_env = "CRM_PRIORITY_SPARK_SCHEMA"
    _session: Any = field(default=None, repr=False)

    @property
    def session(self) -> Any:
        if self._session is None:
            self._session = spark_session(self.target())
        return self._session

    def load_source(
        self,
        rows: Sequence[Mapping[str, str | None]],
        columns: Sequence[str] = SEED_COLUMNS,
        relation: str | None = None,
    ) -> None:
        from pyspark.sql.types import StringType, StructField, StructType

        source = relation or source_relation(self)
        self.session.sql(f"create database if not exists {source.rpartition('.')[0]}")
        self.session.sql(f"drop table if exists {source}")
        schema = StructType([StructField(column, StringType()) for column in columns])
        frame = self.session.createDataFrame(text_rows(rows, columns), schema=schema)
        frame.write.format("parquet").saveAsTable(source)

    def verify(self, scorer: PriorityScorer | None = None) -> VerificationReport:
        with SparkWarehouse(self.target()) as warehouse:
            return verify_warehouse(warehouse, Relations.for_schemas(self.schema), scorer or PriorityScorer())

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.session.sql(sql).collect()]

    def publisher(self) -> Publisher:
        return SparkPublisher(self.target())

    def published(self) -> tuple[int, str]:
        if not self.session.catalog.tableExists(f"{self.schema}.client_priority"):
            return (0, "")
        ((count, total),) = self.query(SparkPublisher.checksum_sql(self.schema))
        return int(count), checksum_of(count, total)
