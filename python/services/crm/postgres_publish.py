"""Write, audit, publish on PostgreSQL: build into a build schema, then swap it in for readers in one transaction.

Readers (the BI role) query `<schema>.client_priority` and the other marts. A build writes every
model into `<schema>__build`, which readers are not granted and do not name; after the proof, one
transaction renames the published schema away and the build schema into its place. A query that
started before the swap finishes on the tables it opened; one that starts after reads the new
build; none sees a mix. Grants move with the schema and its tables, so `bi_reader` keeps its
SELECT and USAGE. The retired schema is dropped afterwards, once its last reader is done.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from services.crm.publication import BuildLockedError, Publication, PublishError, checksum_of
from services.crm.publish import new_build_id
from services.crm.warehouse import PostgresWarehouse, Relations, Warehouse, postgres_connection

IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,50}")
PUBLISHED_RELATIONS = (
    "client_priority",
    "client_priority_rejects",
    "aum_distribution",
    "allocation_queue",
    "client_eligibility",
    "client_tier_changes",
)
# A swap waits this long for a lock (another DDL on the schema) before giving up cleanly.
SWAP_LOCK_TIMEOUT = "60s"


def connect(target: Mapping[str, Any]) -> Any:
    connection = postgres_connection(target)
    connection.autocommit = True
    return connection


class PostgresPublisher:
    def __init__(self, target: Mapping[str, Any]) -> None:
        self.target = target
        self.schema = str(target["schema"])
        if not IDENTIFIER.fullmatch(self.schema):
            raise PublishError(f"The PostgreSQL schema must be a lower-case identifier; got {self.schema!r}.")
        self.build_schema = f"{self.schema}__build"
        self.retired_schema = f"{self.schema}__retired"
        self.build_id = new_build_id()

    @contextmanager
    def lock(self) -> Iterator[None]:
        """A session advisory lock per published schema: released by the server if this process dies."""
        connection = connect(self.target)
        try:
            with connection.cursor() as cursor:
                cursor.execute("select pg_try_advisory_lock(hashtext(%s))", (f"crm_priority:{self.schema}",))
                (locked,) = cursor.fetchone()
            if not locked:
                raise BuildLockedError(
                    f"Another build is publishing into schema {self.schema!r}; scheduled builds must not overlap."
                )
            yield
        finally:
            connection.close()

    def prepare(self) -> dict[str, object]:
        connection = connect(self.target)
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"drop schema if exists {self.build_schema} cascade")
                cursor.execute(f"drop schema if exists {self.retired_schema} cascade")
                cursor.execute(f"create schema {self.build_schema}")
                if self._exists(cursor, self.schema, "client_tier_history"):
                    # The history of published builds, extended by this build's snapshot.
                    cursor.execute(
                        f"create table {self.build_schema}.client_tier_history"
                        f" as select * from {self.schema}.client_tier_history"
                    )
        except Exception as error:
            raise PublishError(f"Cannot prepare build schema {self.build_schema!r}: {error}") from None
        finally:
            connection.close()
        return {"crm_build_schema": self.build_schema}

    def build_relations(self, source: str) -> Relations:
        return Relations.in_schema(source, self.build_schema)

    def open_build(self) -> Warehouse:
        return PostgresWarehouse(self.target)

    def publish(self, proof: dict[str, object]) -> Publication:
        connection = connect(self.target)
        try:
            with connection.cursor() as cursor:
                cursor.execute("begin")
                cursor.execute(f"set local lock_timeout = '{SWAP_LOCK_TIMEOUT}'")
                if self._exists(cursor, self.schema):
                    cursor.execute(f"alter schema {self.schema} rename to {self.retired_schema}")
                cursor.execute(f"alter schema {self.build_schema} rename to {self.schema}")
                cursor.execute("commit")
                # Waits for queries still reading the retired build, then frees its space.
                cursor.execute(f"drop schema if exists {self.retired_schema} cascade")
                row_counts = {name: self._count(cursor, name) for name in PUBLISHED_RELATIONS}
                cursor.execute(self.checksum_sql(self.schema))
                checksum = checksum_of(*cursor.fetchone())
        except Exception as error:
            raise PublishError(f"Cannot swap build schema {self.build_schema!r} in: {error}") from None
        finally:
            connection.close()
        return Publication(
            build_id=self.build_id, location=f"schema {self.schema}", row_counts=row_counts, checksum=checksum
        )

    @staticmethod
    def checksum_sql(schema: str) -> str:
        """Row count and an order-independent sum of row hashes of the published client_priority."""
        return f"select count(*), coalesce(sum(hashtextextended(t::text, 0)), 0) from {schema}.client_priority t"

    def discard(self) -> None:
        connection = connect(self.target)
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"drop schema if exists {self.build_schema} cascade")
        finally:
            connection.close()

    def _count(self, cursor: Any, name: str) -> int:
        if not self._exists(cursor, self.schema, name):
            return 0
        cursor.execute(f"select count(*) from {self.schema}.{name}")
        return int(cursor.fetchone()[0])

    @staticmethod
    def _exists(cursor: Any, schema: str, table: str | None = None) -> bool:
        if table is None:
            cursor.execute("select 1 from pg_catalog.pg_namespace where nspname = %s", (schema,))
        else:
            cursor.execute(
                "select 1 from pg_catalog.pg_tables where schemaname = %s and tablename = %s", (schema, table)
            )
        return cursor.fetchone() is not None
