"""PostgreSQL's side of the batch check: queries streamed as Arrow record batches over COPY (the ADBC driver)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from services.crm.arrow_check import EngineFingerprints, prefetched, verify_batches
from services.crm.client_priority import PriorityScorer
from services.crm.vectorized_reference import Labels
from services.crm.verification_report import RECHECK_ROWS, VerificationReport
from services.crm.warehouse import Relations

I64 = npt.NDArray[np.int64]


def postgres_uri(target: Mapping[str, Any]) -> str:
    """A libpq URI for a dbt postgres target (user, password, host, port, database)."""
    user = quote(str(target["user"]), safe="")
    password = str(target.get("password") or "")
    credentials = f"{user}:{quote(password, safe='')}" if password else user
    database = quote(str(target.get("dbname") or target.get("database")), safe="")
    return f"postgresql://{credentials}@{target['host']}:{int(target.get('port', 5432))}/{database}"


class PostgresBatchReader:
    """The arrow_check.BatchReader of one PostgreSQL database: a read-only ADBC connection.

    The ADBC driver reads each query with COPY (binary) into Arrow batches of a few MB, so a table
    of any size streams through in flat memory.
    """

    text_type = "text"
    # The driver hands numeric out as text: the server multiplies by 100 instead.
    cents_in_sql = True

    def __init__(self, target: Mapping[str, Any]) -> None:
        # Imported late: only PostgreSQL targets need it. The driver ships no type hints.
        import adbc_driver_postgresql.dbapi  # type: ignore[import-untyped]

        self.connection = adbc_driver_postgresql.dbapi.connect(postgres_uri(target))
        with self.connection.cursor() as cursor:
            # Reads only: a read-only session cannot change the warehouse it verifies.
            cursor.execute("set default_transaction_read_only = on")

    def columns(self, relation: str) -> list[str]:
        return [name for name, _ in self._described(relation)]

    def text_columns(self, relation: str) -> list[str]:
        return [name for name, data_type in self._described(relation) if data_type == "text"]

    def _described(self, relation: str) -> list[tuple[str, str]]:
        schema, _, table = relation.rpartition(".")
        with self.connection.cursor() as cursor:
            cursor.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = $1 and table_name = $2 order by ordinal_position",
                (schema or "public", table),
            )
            return [(str(name).lower(), str(data_type)) for name, data_type in cursor.fetchall()]

    def batches(self, sql: str) -> Iterator[pa.RecordBatch]:
        def read() -> Iterator[pa.RecordBatch]:
            with self.connection.cursor() as cursor:
                cursor.execute(sql)
                yield from cursor.fetch_record_batch()

        return prefetched(read(), "postgres-reader")

    def in_buckets(self, sql: str, buckets: I64) -> Iterator[pa.RecordBatch]:
        # PostgreSQL has no hash() that is the check's: the check picks the buckets' rows itself.
        return self.batches(sql)

    def engine_fingerprints(self, relation: str, labels: Labels) -> EngineFingerprints | None:
        return None

    def close(self) -> None:
        self.connection.close()


def verify_postgres(
    target: Mapping[str, Any],
    relations: Relations,
    scorer: PriorityScorer,
    on_progress: Callable[[int], None] | None = None,
    recheck_rows: int = RECHECK_ROWS,
) -> VerificationReport:
    """The row-by-row check of one PostgreSQL warehouse, vectorized; the same report as ``scalar_check.compare``."""
    reader = PostgresBatchReader(target)
    try:
        return verify_batches(reader, relations, scorer, on_progress, recheck_rows)
    finally:
        reader.close()
