"""DuckDB's side of the batch check: queries streamed as Arrow record batches, in capped memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import duckdb
import pyarrow as pa

from services.crm.arrow_check import prefetched, verify_batches
from services.crm.client_priority import PriorityScorer
from services.crm.verification_report import VerificationReport
from services.crm.warehouse import Relations

BATCH_ROWS = 1 << 18
# DuckDB caches scanned blocks up to its memory limit (80% of RAM by default): cap it so the
# check's memory does not grow with the table.
DUCKDB_MEMORY_LIMIT = "128MB"


class DuckDBBatchReader:
    """The arrow_check.BatchReader of one DuckDB connection."""

    text_type = "varchar"
    # DuckDB hands out decimal(18, 2) as decimal128, whose buffer holds the cents.
    cents_in_sql = False

    def __init__(self, connection: duckdb.DuckDBPyConnection, batch_rows: int = BATCH_ROWS) -> None:
        self.connection = connection
        self.batch_rows = batch_rows

    def columns(self, relation: str) -> list[str]:
        return [name for name, _ in self._described(relation)]

    def text_columns(self, relation: str) -> list[str]:
        return [name for name, data_type in self._described(relation) if data_type == "VARCHAR"]

    def _described(self, relation: str) -> list[tuple[str, str]]:
        described = self.connection.execute(f"describe {relation}").fetchall()
        return [(str(row[0]).lower(), str(row[1]).upper()) for row in described]

    def batches(self, sql: str) -> Iterator[pa.RecordBatch]:
        reader = self.connection.cursor().sql(sql).to_arrow_reader(self.batch_rows)
        return prefetched(iter(reader), "duckdb-reader")


def verify_duckdb(
    connection: duckdb.DuckDBPyConnection,
    relations: Relations,
    scorer: PriorityScorer,
    on_progress: Callable[[int], None] | None = None,
    batch_rows: int = BATCH_ROWS,
) -> VerificationReport:
    """The row-by-row check of one DuckDB warehouse, vectorized; the same report as ``scalar_check.compare``."""
    previous = connection.sql(
        "select current_setting('memory_limit'), current_setting('enable_progress_bar')"
    ).fetchall()[0]
    # DuckDB's own progress bar would print into the caller's output; the caller has on_progress.
    connection.execute(f"set memory_limit = '{DUCKDB_MEMORY_LIMIT}'; set enable_progress_bar = false")
    try:
        return verify_batches(DuckDBBatchReader(connection, batch_rows), relations, scorer, on_progress)
    finally:
        connection.execute(f"set memory_limit = '{previous[0]}'; set enable_progress_bar = {bool(previous[1])}")
