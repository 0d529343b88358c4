"""Write, audit, publish on Spark: each build in a database of its own, readers' views repointed after the proof.

Spark has no multi-statement transactions and cannot rename a database, so readers query views
in `<schema>` (`client_priority`, the consumer marts, the rejects), each `select * from` one
build database. A build writes into a new database `<schema>__b<build id>`; only after the
proof is each view replaced (`create or replace view`, one atomic metastore update) to read it.
A query sees one complete, verified build of every relation it reads; the previous build's
database is kept until the next publish so that queries already running on it can finish.
Views live in the metastore, so this works the same on a cluster's Hive metastore.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from services.crm.publication import Publication, PublishError, checksum_of
from services.crm.publish import new_build_id
from services.crm.warehouse import Relations, SparkWarehouse, Warehouse, spark_session

IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,50}")
# client_tier_changes and the tier history need a snapshot, which Spark cannot keep here.
PUBLISHED_RELATIONS = (
    "client_priority",
    "client_priority_rejects",
    "aum_distribution",
    "allocation_queue",
    "client_eligibility",
)
BUILDS_KEPT = 2


class SparkPublisher:
    def __init__(self, target: Mapping[str, Any]) -> None:
        self.target = target
        self.schema = str(target["schema"])
        if not IDENTIFIER.fullmatch(self.schema):
            raise PublishError(f"The Spark schema must be a lower-case identifier; got {self.schema!r}.")
        self.build_id = new_build_id()
        self.build_database = f"{self.schema}__b{re.sub('[^0-9a-z]', '_', self.build_id.lower())}"

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Builds never share a database; the last publish wins, each one complete."""
        yield

    def prepare(self) -> dict[str, object]:
        return {"crm_build_schema": self.build_database}

    def build_relations(self, source: str) -> Relations:
        return Relations.in_schema(source, self.build_database)

    def open_build(self) -> Warehouse:
        return SparkWarehouse(self.target)

    def publish(self, proof: dict[str, object]) -> Publication:
        session = spark_session(self.target)
        try:
            session.sql(f"create database if not exists {self.schema}")
            for name in PUBLISHED_RELATIONS:
                published = f"{self.schema}.{name}"
                if session.catalog.tableExists(published) and session.catalog.getTable(published).tableType != "VIEW":
                    # A table from a build before views were published: replaced once.
                    session.sql(f"drop table {published}")
                session.sql(f"create or replace view {published} as select * from {self.build_database}.{name}")
            row_counts = {name: int(session.table(f"{self.schema}.{name}").count()) for name in PUBLISHED_RELATIONS}
            aggregate = session.sql(self.checksum_sql(self.schema)).collect()[0]
            self._drop_old_builds(session)
        except Exception as error:
            raise PublishError(f"Cannot repoint the views in {self.schema!r}: {error}") from None
        return Publication(
            build_id=self.build_id,
            location=f"database {self.schema} (views on {self.build_database})",
            row_counts=row_counts,
            checksum=checksum_of(*aggregate),
        )

    @staticmethod
    def checksum_sql(schema: str) -> str:
        """Row count and an order-independent sum of row hashes of the published client_priority."""
        return f"select count(*), coalesce(sum(xxhash64(*)), 0) from {schema}.client_priority"

    def discard(self) -> None:
        spark_session(self.target).sql(f"drop database if exists {self.build_database} cascade")

    def _drop_old_builds(self, session: Any) -> None:
        prefix = f"{self.schema}__b"
        builds = sorted(row[0] for row in session.sql("show databases").collect() if str(row[0]).startswith(prefix))
        for database in builds[:-BUILDS_KEPT]:
            if database != self.build_database:
                session.sql(f"drop database if exists {database} cascade")
