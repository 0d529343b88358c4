"""The row-by-row check of a built mart against the Python reference: picks the path for each engine.

Read top-down, nothing here is imported back: the report types (``verification_report``), the
scalar reference check (``scalar_check``, the canonical one), the compiled loops (``kernels``),
the vectorized reference (``vectorized_reference``), fingerprints (``fingerprints``), the SQL
(``queries``), the streamed check over Arrow batches (``arrow_check``) with one reader per
engine (``duckdb_reader``, ``postgres_reader``), and Spark's check inside the executors
(``spark_check``).
"""

from __future__ import annotations

from collections.abc import Callable

from services.crm.client_priority import PriorityScorer
from services.crm.scalar_check import compare, read_source, verify_row_by_row
from services.crm.verification_report import (
    COMPARED_COLUMNS,
    RECHECK_ROWS,
    REJECT_KEY_COLUMNS,
    Mismatch,
    RejectKey,
    VerificationReport,
)
from services.crm.warehouse import DuckDBWarehouse, PostgresWarehouse, Relations, SparkWarehouse, Warehouse

__all__ = [
    "COMPARED_COLUMNS",
    "REJECT_KEY_COLUMNS",
    "Mismatch",
    "RejectKey",
    "VerificationReport",
    "compare",
    "read_source",
    "verify_row_by_row",
    "verify_warehouse",
]


def verify_warehouse(
    warehouse: Warehouse,
    relations: Relations,
    scorer: PriorityScorer,
    on_progress: Callable[[int], None] | None = None,
    *,
    row_by_row: bool = False,
    recheck_rows: int = RECHECK_ROWS,
) -> VerificationReport:
    """Compare the source, the mart and the rejects of one warehouse with the reference.

    DuckDB and PostgreSQL are checked by streaming Arrow batches through the vectorized
    reference, Spark inside its executors; property tests prove each gives the same report as the
    scalar path. `row_by_row` forces the scalar path, the reference, as does any other warehouse.
    `on_progress` is called with the number of mart rows compared so far. Past `recheck_rows` rows
    in differing key buckets, the batch paths count the rest of those buckets instead of reading them.
    """
    if row_by_row:
        return verify_row_by_row(warehouse, relations, scorer, on_progress)
    if isinstance(warehouse, DuckDBWarehouse):
        from services.crm.duckdb_reader import verify_duckdb

        return verify_duckdb(warehouse.connection, relations, scorer, on_progress, recheck_rows=recheck_rows)
    if isinstance(warehouse, PostgresWarehouse):
        from services.crm.postgres_reader import verify_postgres  # needs the ADBC driver

        return verify_postgres(warehouse.target, relations, scorer, on_progress, recheck_rows)
    if isinstance(warehouse, SparkWarehouse):
        from services.crm.spark_check import verify_spark  # needs pyspark

        return verify_spark(warehouse.session, relations, scorer, on_progress, recheck_rows)
    return verify_row_by_row(warehouse, relations, scorer, on_progress)
