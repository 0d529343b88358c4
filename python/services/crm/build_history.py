"""Where each engine keeps the build log: the operators' JSON-lines file, and `build_history`, the copy readers query.

The JSON-lines file is the log (services/crm/build_log.py). `build_history` repeats it, one row
per record, where readers look: on DuckDB `build_history.duckdb` and `build_history.parquet` in
the readers' folder (beside the published mart, outside its versions, so repointing `current`
does not change it); on PostgreSQL and Spark the table `<schema>_audit.build_history`, in a
schema that publishing never swaps. It is append-only: each build adds the records it lacks
and never rewrites the ones it holds, so a record removed from the file still shows there.
Each engine also says what readers see now, for the audit to compare with the log.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb

from services.crm.build_log import ReadersView, canonical
from services.crm.postgres_publish import PostgresPublisher
from services.crm.postgres_publish import connect as postgres_connect
from services.crm.publication import checksum_of, fsync_path
from services.crm.publish import MANIFEST_NAME, SNAPSHOT_NAME, SNAPSHOT_STORAGE_VERSION, mart_checksum, sql_string
from services.crm.spark_publish import SparkPublisher
from services.crm.warehouse import spark_session

HISTORY_TABLE = "build_history"
HISTORY_FILES = ("build_history.duckdb", "build_history.parquet")
ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# name, DuckDB type, PostgreSQL type, Spark type: the record's main fields, then the whole record.
COLUMNS = (
    ("seq", "bigint", "bigint", "bigint"),
    ("build_id", "varchar", "text", "string"),
    ("started_at", "timestamptz", "timestamptz", "timestamp"),
    ("ended_at", "timestamptz", "timestamptz", "timestamp"),
    ("target", "varchar", "text", "string"),
    ("engine", "varchar", "text", "string"),
    ("outcome", "varchar", "text", "string"),
    ("commit", "varchar", "text", "string"),
    ("policy_version", "varchar", "text", "string"),
    ("source_rows", "bigint", "bigint", "bigint"),
    ("mart_rows", "bigint", "bigint", "bigint"),
    ("rejects_rows", "bigint", "bigint", "bigint"),
    ("published_checksum", "varchar", "text", "string"),
    ("message", "varchar", "text", "string"),
    ("previous_hash", "varchar", "text", "string"),
    ("hash", "varchar", "text", "string"),
    ("record", "varchar", "text", "string"),
)


def history_row(record: Mapping[str, Any]) -> tuple[Any, ...]:
    """One build_history row: the main fields typed, then the record as the log holds it."""
    target = record.get("target") or {}
    rows = record.get("rows") or {}
    return (
        record.get("seq"),
        record.get("build_id"),
        datetime.fromisoformat(str(record["started_at"])),
        datetime.fromisoformat(str(record["ended_at"])),
        target.get("name"),
        target.get("engine"),
        record.get("outcome"),
        record.get("commit"),
        record.get("policy_version"),
        rows.get("source"),
        rows.get("mart"),
        rows.get("rejects"),
        record.get("published_checksum"),
        record.get("message"),
        record.get("previous_hash"),
        record.get("hash"),
        canonical(record),
    )


def _missing(records: Sequence[Mapping[str, Any]], held: int | None) -> list[tuple[Any, ...]]:
    """Rows for the records after the last seq the relation holds."""
    return [history_row(record) for record in records if int(record.get("seq") or 0) > (held or 0)]


class BuildHistory(Protocol):
    """One engine's home of the log: the file, the readers' relation, and what readers see now."""

    log_path: Path

    def sync(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Add to build_history the records it lacks (called under the log's lock after each append)."""
        ...

    def histories(self) -> dict[str, list[tuple[int, str]]]:
        """Each readers' copy of the log by name: (seq, hash) in seq order."""
        ...

    def readers_view(self) -> ReadersView:
        """The build and client_priority checksums readers see now."""
        ...


class DuckDBHistory:
    def __init__(self, publish_dir: Path, operators_dir: Path) -> None:
        self.publish_dir = publish_dir
        self.log_path = operators_dir / "build_log.jsonl"
        self.database = publish_dir / HISTORY_FILES[0]
        self.parquet = publish_dir / HISTORY_FILES[1]

    def sync(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Rewrite both files under temporary names and rename each into place: never seen half written."""
        self.publish_dir.mkdir(parents=True, exist_ok=True)
        staged_database = self.publish_dir / f".{self.database.name}.{os.getpid()}.partial"
        staged_parquet = self.publish_dir / f".{self.parquet.name}.{os.getpid()}.partial"
        staged_database.unlink(missing_ok=True)
        connection = duckdb.connect()
        try:
            storage = sql_string(SNAPSHOT_STORAGE_VERSION)
            connection.execute(f"attach {sql_string(staged_database)} as staged (storage_version {storage})")
            columns = ", ".join(f'"{name}" {duckdb_type}' for name, duckdb_type, _, _ in COLUMNS)
            connection.execute(f"create table staged.main.{HISTORY_TABLE} ({columns})")
            if self.database.is_file():
                connection.execute(f"attach {sql_string(self.database)} as held (read_only)")
                connection.execute(f"insert into staged.main.{HISTORY_TABLE} select * from held.main.{HISTORY_TABLE}")
                connection.execute("detach held")
            (held,) = connection.execute(f"select max(seq) from staged.main.{HISTORY_TABLE}").fetchone() or (None,)
            rows = _missing(records, held)
            if rows:
                marks = ", ".join("?" for _ in COLUMNS)
                connection.executemany(f"insert into staged.main.{HISTORY_TABLE} values ({marks})", rows)
            connection.execute(
                f"copy (select * from staged.main.{HISTORY_TABLE} order by seq)"
                f" to {sql_string(staged_parquet)} (format parquet)"
            )
            connection.execute("checkpoint staged")
            connection.execute("detach staged")
        finally:
            connection.close()
        for staged, final in ((staged_database, self.database), (staged_parquet, self.parquet)):
            fsync_path(staged)
            os.replace(staged, final)
        fsync_path(self.publish_dir)

    def histories(self) -> dict[str, list[tuple[int, str]]]:
        found: dict[str, list[tuple[int, str]]] = {}
        with duckdb.connect() as connection:
            if self.database.is_file():
                connection.execute(f"attach {sql_string(self.database)} as held (read_only)")
                found[str(self.database)] = [
                    (int(seq), str(hash_))
                    for seq, hash_ in connection.execute(
                        f"select seq, hash from held.main.{HISTORY_TABLE} order by seq"
                    ).fetchall()
                ]
            if self.parquet.is_file():
                found[str(self.parquet)] = [
                    (int(seq), str(hash_))
                    for seq, hash_ in connection.execute(
                        f"select seq, hash from read_parquet({sql_string(self.parquet)}) order by seq"
                    ).fetchall()
                ]
        return found

    def readers_view(self) -> ReadersView:
        manifest_path = self.publish_dir / MANIFEST_NAME
        snapshot = self.publish_dir / SNAPSHOT_NAME
        if not manifest_path.is_file() or not snapshot.is_file():
            return ReadersView(build_id=None, checksums={})
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        with duckdb.connect(str(snapshot), read_only=True) as connection:
            recomputed = mart_checksum(connection, "client_priority")
        return ReadersView(
            build_id=str(manifest.get("build_id")),
            checksums={"manifest": str(manifest.get("client_priority_checksum")), "recomputed": recomputed},
        )


class PostgresHistory:
    def __init__(self, target: Mapping[str, Any], log_path: Path, bi_role: str | None = None) -> None:
        self.target = target
        self.log_path = log_path
        self.schema = str(target["schema"])
        self.relation = f"{self.schema}_audit.{HISTORY_TABLE}"
        self.bi_role = bi_role if bi_role and ROLE.fullmatch(bi_role) else None

    def sync(self, records: Sequence[Mapping[str, Any]]) -> None:
        from psycopg2.extras import execute_values

        connection = postgres_connect(self.target)
        try:
            with connection.cursor() as cursor:
                cursor.execute("begin")
                cursor.execute(f"create schema if not exists {self.schema}_audit")
                columns = ", ".join(f'"{name}" {postgres_type}' for name, _, postgres_type, _ in COLUMNS)
                cursor.execute(f"create table if not exists {self.relation} ({columns}, primary key (seq))")
                # One writer at a time even across build hosts; readers are not blocked.
                cursor.execute(f"lock table {self.relation} in share row exclusive mode")
                cursor.execute(f"select max(seq) from {self.relation}")
                (held,) = cursor.fetchone()
                rows = _missing(records, held)
                if rows:
                    execute_values(cursor, f"insert into {self.relation} values %s", rows)
                if self.bi_role:
                    cursor.execute("select 1 from pg_catalog.pg_roles where rolname = %s", (self.bi_role,))
                    if cursor.fetchone():
                        cursor.execute(f"grant usage on schema {self.schema}_audit to {self.bi_role}")
                        cursor.execute(f"grant select on {self.relation} to {self.bi_role}")
                cursor.execute("commit")
        finally:
            connection.close()

    def histories(self) -> dict[str, list[tuple[int, str]]]:
        connection = postgres_connect(self.target)
        try:
            with connection.cursor() as cursor:
                cursor.execute("select to_regclass(%s)", (self.relation,))
                if cursor.fetchone()[0] is None:
                    return {}
                cursor.execute(f"select seq, hash from {self.relation} order by seq")
                return {self.relation: [(int(seq), str(hash_)) for seq, hash_ in cursor.fetchall()]}
        finally:
            connection.close()

    def readers_view(self) -> ReadersView:
        connection = postgres_connect(self.target)
        try:
            with connection.cursor() as cursor:
                cursor.execute("select to_regclass(%s)", (f"{self.schema}.client_priority",))
                if cursor.fetchone()[0] is None:
                    return ReadersView(build_id=None, checksums={})
                cursor.execute(PostgresPublisher.checksum_sql(self.schema))
                return ReadersView(build_id=None, checksums={"recomputed": checksum_of(*cursor.fetchone())})
        finally:
            connection.close()


class SparkHistory:
    def __init__(self, target: Mapping[str, Any], log_path: Path) -> None:
        self.target = target
        self.log_path = log_path
        self.schema = str(target["schema"])
        self.relation = f"{self.schema}_audit.{HISTORY_TABLE}"

    def sync(self, records: Sequence[Mapping[str, Any]]) -> None:
        session = spark_session(self.target)
        session.sql(f"create database if not exists {self.schema}_audit")
        columns = ", ".join(f"`{name}` {spark_type}" for name, _, _, spark_type in COLUMNS)
        session.sql(f"create table if not exists {self.relation} ({columns}) using parquet")
        held = session.sql(f"select max(seq) from {self.relation}").collect()[0][0]
        rows = _missing(records, held)
        if rows:
            frame = session.createDataFrame(rows, schema=session.table(self.relation).schema)
            frame.write.insertInto(self.relation)

    def histories(self) -> dict[str, list[tuple[int, str]]]:
        session = spark_session(self.target)
        if not session.catalog.tableExists(self.relation):
            return {}
        rows = session.sql(f"select seq, hash from {self.relation} order by seq").collect()
        return {self.relation: [(int(row[0]), str(row[1])) for row in rows]}

    def readers_view(self) -> ReadersView:
        session = spark_session(self.target)
        if not session.catalog.tableExists(f"{self.schema}.client_priority"):
            return ReadersView(build_id=None, checksums={})
        aggregate = session.sql(SparkPublisher.checksum_sql(self.schema)).collect()[0]
        return ReadersView(build_id=None, checksums={"recomputed": checksum_of(*aggregate)})
