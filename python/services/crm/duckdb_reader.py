"""DuckDB's side of the batch check: queries streamed as Arrow batches in capped memory, the mart hashed in SQL."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from decimal import Decimal

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from services.crm.arrow_arrays import array_of, integers, label_type, numpy_integers
from services.crm.arrow_check import EngineFingerprints, prefetched, verify_batches
from services.crm.client_priority import PriorityScorer
from services.crm.fingerprints import BUCKET_BITS, keyed, mart_fingerprints
from services.crm.queries import fingerprint_columns, fingerprint_select, mart_columns
from services.crm.vectorized_reference import MONEY_COLUMNS, Labels
from services.crm.verification_report import COMPARED_COLUMNS, RECHECK_ROWS, VerificationReport
from services.crm.warehouse import Relations

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
BATCH_ROWS = 1 << 18
# DuckDB caches scanned blocks up to its memory limit (80% of RAM by default): cap it so the
# check's memory does not grow with the table.
DUCKDB_MEMORY_LIMIT = "128MB"
# Names of the Arrow tables a query reads (itertools.count is safe across threads, a generator is not).
_numbers = itertools.count()


def _name() -> str:
    return f"crm_verify_{next(_numbers)}"


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

    def batches(self, sql: str, **tables: pa.Table) -> Iterator[pa.RecordBatch]:
        """The query's batches; `tables` are Arrow tables the query reads by those names."""
        cursor = self.connection.cursor()
        for name, table in tables.items():
            cursor.register(name, table)
        return prefetched(iter(cursor.sql(sql).to_arrow_reader(self.batch_rows)), "duckdb-reader")

    def in_buckets(self, sql: str, buckets: I64) -> Iterator[pa.RecordBatch]:
        picked = _name()
        narrowed = (
            f"select q.* from ({sql}) as q semi join {picked} as b"
            f" on (hash(q.client_id) >> {64 - BUCKET_BITS}) = b.bucket"
        )
        return self.batches(narrowed, **{picked: pa.table({"bucket": integers(buckets.astype(np.uint64))})})

    def engine_fingerprints(self, relation: str, labels: Labels) -> EngineFingerprints | None:
        return DuckDBFingerprints(self, relation, labels) if hashes_agree(self.connection, labels) else None


class DuckDBFingerprints:
    """The arrow_check.EngineFingerprints of a DuckDB mart: DuckDB's hash() of each row's key and
    compared columns, in SQL, keyed here (`fingerprints.keyed`)."""

    def __init__(self, reader: DuckDBBatchReader, relation: str, labels: Labels) -> None:
        self.reader, self.relation, self.labels = reader, relation, labels

    def every_row(self) -> Iterator[tuple[U64, U64]]:
        for batch in self.reader.batches(fingerprint_select(self.relation, self.labels)):
            yield _keyed_fingerprints(batch)

    def rows_of(self, ids: pa.Array) -> Iterator[tuple[pa.RecordBatch, U64, U64]]:
        picked = _name()
        rows = f"(select m.* from {self.relation} as m semi join {picked} as p on m.client_id = p.client_id) as rows"
        columns = f"{mart_columns(self.reader.cents_in_sql)}, {fingerprint_columns(self.labels)}"
        for batch in self.reader.batches(f"select {columns} from {rows}", **{picked: pa.table({"client_id": ids})}):
            yield (batch.drop_columns(["key_hash", "row_hash"]), *_keyed_fingerprints(batch))


def _keyed_fingerprints(batch: pa.RecordBatch) -> tuple[U64, U64]:
    """The key hashes and fingerprints of a batch holding `queries.fingerprint_columns`."""
    keys = numpy_integers(batch.column("key_hash")).view(np.uint64)
    return keys, keyed(keys, numpy_integers(batch.column("row_hash")).view(np.uint64))


@functools.cache
def _probe(labels: Labels) -> pa.Table:
    """Mart rows that exercise every part of a fingerprint: each label, nulls, texts of every
    length around DuckDB's 8-byte words and 12-byte inlining, multi-byte UTF-8, money's extremes."""
    texts = ["", "a", "1234567", "12345678", "123456789", "123456789012", "1234567890123", "ünï-ид-客户-🙂", "x" * 41]
    values = labels.values()
    rows = max(len(texts), *(len(choices) for choices in values.values())) + 1
    money = [None, Decimal("0.00"), Decimal("-0.01"), Decimal("9999999999999999.99"), Decimal("-9999999999999999.99")]
    columns: dict[str, pa.Array] = {
        "client_id": array_of([texts[row % len(texts)] + str(row) for row in range(rows)], pa.string()),
        "client_name": array_of(
            [None if row % 4 == 0 else texts[row % len(texts)] for row in range(rows)], pa.string()
        ),
    }
    for name in MONEY_COLUMNS:
        columns[name] = array_of([money[row % len(money)] for row in range(rows)], pa.decimal128(18, 2))
    for name, choices in values.items():
        columns[name] = array_of(
            [None if row == rows - 1 else choices[row % len(choices)] for row in range(rows)], label_type(choices[0])
        )
    return pa.table({name: columns[name] for name in ("client_id", *COMPARED_COLUMNS)})


def hashes_agree(connection: duckdb.DuckDBPyConnection, labels: Labels) -> bool:
    """Whether this DuckDB's ``hash()`` is the one `fingerprints` computes, on rows probing every part of it.

    A DuckDB that hashed otherwise would make every bucket differ: the check then fingerprints the
    mart in Python, as on PostgreSQL.
    """
    probe = _probe(labels)
    name = _name()
    cursor = connection.cursor()
    cursor.register(name, probe)
    in_sql = _keyed_fingerprints(
        cursor.sql(fingerprint_select(name, labels)).to_arrow_table().combine_chunks().to_batches()[0]
    )
    in_python = mart_fingerprints(probe.combine_chunks().to_batches()[0], labels)
    return all(np.array_equal(engine, python) for engine, python in zip(in_sql, in_python, strict=True))


def verify_duckdb(
    connection: duckdb.DuckDBPyConnection,
    relations: Relations,
    scorer: PriorityScorer,
    on_progress: Callable[[int], None] | None = None,
    *,
    batch_rows: int = BATCH_ROWS,
    recheck_rows: int = RECHECK_ROWS,
) -> VerificationReport:
    """The row-by-row check of one DuckDB warehouse, vectorized; the same report as ``scalar_check.compare``."""
    previous = connection.sql(
        "select current_setting('memory_limit'), current_setting('enable_progress_bar')"
    ).fetchall()[0]
    # DuckDB's own progress bar would print into the caller's output; the caller has on_progress.
    connection.execute(f"set memory_limit = '{DUCKDB_MEMORY_LIMIT}'; set enable_progress_bar = false")
    try:
        return verify_batches(DuckDBBatchReader(connection, batch_rows), relations, scorer, on_progress, recheck_rows)
    finally:
        connection.execute(f"set memory_limit = '{previous[0]}'; set enable_progress_bar = {bool(previous[1])}")
