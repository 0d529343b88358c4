"""The batch check over Arrow record batches streamed from any engine (DuckDB, PostgreSQL): flat memory, no join.

How it stays exact and flat in memory (docs/decisions/0005-batch-verification.md):

1. The rejects are read first (the scalar check needs them anyway; at most max_reject_share of
   the source): every client with a reject is *flagged* and compared by the scalar check.
2. The source streams by; every row the vectorized reference vouches for becomes one fingerprint
   added to its key's bucket, every other row is kept and its client flagged.
3. The mart's rows become fingerprints in their buckets (DuckDB hashes its rows in SQL,
   `BatchReader.engine_fingerprints`), but for the flagged clients' rows, which are kept: their
   exact ids decide, never a hash.
4. Buckets whose sums or counts differ are read again from both sides, and the scalar
   ``compare`` runs on the kept rows and those buckets' rows, reporting each mismatch with mart
   and reference values. Memory grows with the irregular rows, not with N.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import Decimal
from typing import Protocol, TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from services.crm.arrow_arrays import array_of, bools, label_type, numpy_bools, texts
from services.crm.client_priority import PriorityScorer
from services.crm.fingerprints import (
    Buckets,
    KeySet,
    bucket_of,
    expected_fingerprints,
    hash_text,
    keyed,
    mart_fingerprints,
    mart_rows,
)
from services.crm.queries import mart_select, rejects_select, source_select
from services.crm.raw_clients import RawClient, clean_text
from services.crm.scalar_check import compare
from services.crm.vectorized_reference import MONEY_COLUMNS, Bools, Labels, as_string, reference_batch
from services.crm.verification_report import RECHECK_ROWS, VerificationReport
from services.crm.warehouse import Relations

T = TypeVar("T")
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
MONEY = pa.decimal128(18, 2)
# Arrow's kernels, NumPy and the compiled loops release the GIL: two batches are computed side by
# side, while a thread reads the next ones from the engine: up to six batches ahead (about 40 MB of
# source text), so the engine keeps reading while the process loads numba (0.4 s, kernels.py).
WORKERS = 2
PREFETCH_BATCHES = 6


class BatchReader(Protocol):
    """What the check needs of an engine: how its SQL spells text, a relation's columns (and which
    are text already), and a query's record batches, optionally narrowed and fingerprinted by the engine.

    `cents_in_sql`: whether the engine turns money into integer cents (`queries.mart_select`) or
    hands out its decimal128.
    """

    text_type: str
    cents_in_sql: bool

    def columns(self, relation: str) -> list[str]: ...

    def text_columns(self, relation: str) -> list[str]: ...

    def batches(self, sql: str) -> Iterator[pa.RecordBatch]: ...

    def in_buckets(self, sql: str, buckets: I64) -> Iterator[pa.RecordBatch]:
        """The query's rows whose client_id hashes into one of the buckets, or more (all, if the engine can't tell)."""
        ...

    def engine_fingerprints(self, relation: str, labels: Labels) -> EngineFingerprints | None:
        """The mart fingerprinted by the engine, where it can (else None)."""
        ...


class EngineFingerprints(Protocol):
    """A mart whose key hashes and fingerprints the engine computes (`fingerprints.fingerprint`'s spec)."""

    def every_row(self) -> Iterator[tuple[U64, U64]]:
        """Every row's key hash and fingerprint, in batches."""
        ...

    def rows_of(self, ids: pa.Array) -> Iterator[tuple[pa.RecordBatch, U64, U64]]:
        """The rows of these client ids (`queries.mart_select`), with their key hashes and fingerprints, in batches."""
        ...


def verify_batches(
    reader: BatchReader,
    relations: Relations,
    scorer: PriorityScorer,
    on_progress: Callable[[int], None] | None = None,
    recheck_rows: int = RECHECK_ROWS,
) -> VerificationReport:
    """The row-by-row check of one warehouse, vectorized and streamed; the same report as ``scalar_check.compare``.

    Past `recheck_rows` rows in differing buckets, the rest of those buckets are counted, not read.
    """
    policy, labels = scorer.policy, Labels.for_policy(scorer.policy)
    source = relations.source
    source_sql = source_select(source, reader.columns(source), reader.text_type, reader.text_columns(source))
    rejects = [row for batch in reader.batches(rejects_select(relations.rejects)) for row in batch.to_pylist()]
    rejected_ids = texts([row["client_id"] for row in rejects])
    # The engine starts reading the source now, while this process loads numba and the compiled
    # loops at the first hash (0.4 s).
    source_batches = reader.batches(source_sql)
    rejected = KeySet([hash_text(rejected_ids)])

    def vouched_rows(batch: pa.RecordBatch) -> tuple[pa.RecordBatch, Bools, U64, U64]:
        reference = reference_batch(batch, policy)
        keys, fingerprints = expected_fingerprints(reference, labels)
        return batch, reference.vouched & ~rejected.contains(keys), keys, fingerprints

    expected = Buckets()
    irregular: list[RawClient] = []
    for batch, vouched, keys, fingerprints in _mapped(vouched_rows, source_batches):
        irregular += (RawClient.from_mapping(row) for row in batch.filter(bools(~vouched)).to_pylist())
        expected.add(keys, fingerprints, vouched)
    # The clients the scalar check compares, by their exact id: no hash decides which mart rows
    # skip the fingerprint.
    irregular_ids = texts([clean_text(row.client_id) for row in irregular])
    flagged_ids = pc.drop_null(pc.unique(pa.concat_arrays([rejected_ids, irregular_ids])))

    actual, kept_mart = _mart_pass(reader, relations.mart, flagged_ids, labels, on_progress)
    differing, unchecked = expected.to_recheck(actual, recheck_rows)
    if differing.size:
        # Some regular client disagrees: read the rows of its bucket again, from both sides.
        recheck = np.zeros(len(expected.counts), np.bool_)
        recheck[differing] = True
        for batch, vouched, keys, _ in _mapped(vouched_rows, reader.in_buckets(source_sql, differing)):
            picked = vouched & recheck[bucket_of(keys)]
            irregular += (RawClient.from_mapping(row) for row in batch.filter(bools(picked)).to_pylist())
        for batch in reader.in_buckets(mart_select(relations.mart, reader.cents_in_sql), differing):
            ids = batch.column("client_id")
            picked = recheck[bucket_of(hash_text(ids))] & ~_among(ids, flagged_ids)
            kept_mart += mart_rows(batch.filter(bools(picked)))
    report = compare(irregular, kept_mart, rejects, scorer)
    return account_vouched(report, expected, actual, differing, unchecked)


def _mart_pass(
    reader: BatchReader,
    mart: str,
    flagged_ids: pa.Array,
    labels: Labels,
    on_progress: Callable[[int], None] | None,
) -> tuple[Buckets, list[dict[str, object]]]:
    """The mart's bucket sums over its unflagged clients, and the rows of its flagged ones."""
    actual = Buckets()
    kept_mart: list[dict[str, object]] = []
    mart_count = 0
    in_engine = reader.engine_fingerprints(mart, labels)
    if in_engine is not None:
        flagged_keys = KeySet([hash_text(flagged_ids)])
        some_flagged = False
        for keys, fingerprints in in_engine.every_row():
            actual.add(keys, fingerprints, np.ones(keys.size, np.bool_))
            # A flagged id hashes to a flagged key: when no key matches, no row is flagged.
            some_flagged = some_flagged or bool(flagged_keys.contains(keys).any())
            mart_count += keys.size
            if on_progress is not None:
                on_progress(mart_count)
        if some_flagged:
            # Out of the sums again, by exact id, for the scalar check.
            for batch, keys, fingerprints in in_engine.rows_of(flagged_ids):
                actual.remove(keys, fingerprints)
                kept_mart += mart_rows(batch)
        return actual, kept_mart

    def observed_rows(batch: pa.RecordBatch) -> tuple[pa.RecordBatch, Bools, U64, U64]:
        keys, fingerprints = mart_fingerprints(batch, labels)
        return batch, _among(batch.column("client_id"), flagged_ids), keys, fingerprints

    for batch, is_flagged, keys, fingerprints in _mapped(
        observed_rows, reader.batches(mart_select(mart, reader.cents_in_sql))
    ):
        kept_mart += mart_rows(batch.filter(bools(is_flagged)))
        actual.add(keys, fingerprints, ~is_flagged)
        mart_count += batch.num_rows
        if on_progress is not None:
            on_progress(mart_count)
    return actual, kept_mart


def _among(ids: pa.Array | pa.ChunkedArray, flagged_ids: pa.Array) -> Bools:
    """Which ids are exactly one of the flagged ones."""
    found = pc.is_in(as_string(ids), value_set=flagged_ids)
    return numpy_bools(found)


def compile_kernels() -> None:
    """Compile (or load from numba's cache) every loop the check runs, on a few rows of each kind.

    `make setup` runs it, so a check's first run does not spend seconds compiling; the benchmark
    runs it untimed, as it fills dbt's parse state.
    """
    policy = PriorityScorer().policy
    labels = Labels.for_policy(policy)
    source = pa.record_batch(
        {name: texts(["1", None, " 2.50 ", "x"]) for name in ("client_id", "client_name", "aum")}
        | {name: texts([None, "", "1", "yes"]) for name in ("is_sfo", "investor_type")}
        | {name: texts(["1.5", None, "", "2"]) for name in ("investments", "updated_at")}
    )
    reference = reference_batch(source, policy)
    keys, fingerprints = expected_fingerprints(reference, labels)
    keyed(keys, fingerprints)
    buckets = Buckets()
    buckets.add(keys, fingerprints, reference.vouched)
    buckets.remove(keys, fingerprints)
    KeySet([hash_text(source.column("client_id"))]).contains(keys)
    mart = pa.record_batch(
        {"client_id": source.column("client_id"), "client_name": source.column("client_name")}
        | {name: array_of([Decimal("0.01"), None, Decimal("-0.01"), Decimal(0)], MONEY) for name in MONEY_COLUMNS}
        | {name: array_of([values[0]] * 4, label_type(values[0])) for name, values in labels.values().items()}
    )
    mart_fingerprints(mart, labels)


def account_vouched(
    report: VerificationReport,
    expected: Buckets,
    actual: Buckets,
    rechecked: npt.NDArray[np.intp],
    unchecked: npt.NDArray[np.intp],
) -> VerificationReport:
    """The scalar report of the rechecked rows, plus the rows vouched for by matching buckets and the
    differing buckets left unread."""
    vouched = int(expected.counts.sum() - expected.counts[rechecked].sum() - expected.counts[unchecked].sum())
    report.rows_compared += vouched
    report.rows_matched += vouched
    report.rows_vouched = vouched
    report.buckets_rechecked = int(rechecked.size)
    report.buckets_unchecked = int(unchecked.size)
    report.clients_unchecked = int(np.maximum(expected.counts[unchecked], actual.counts[unchecked]).sum())
    report.mismatches.sort(key=lambda mismatch: mismatch.client_id)
    return report


def _mapped(function: Callable[[pa.RecordBatch], T], batches: Iterator[pa.RecordBatch]) -> Iterator[T]:
    """function over the batches in WORKERS threads, results in order, at most WORKERS batches ahead."""
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="verify") as pool:
        pending: deque[Future[T]] = deque()
        for batch in batches:
            pending.append(pool.submit(function, batch))
            if len(pending) > WORKERS:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def prefetched(batches: Iterator[pa.RecordBatch], name: str) -> Iterator[pa.RecordBatch]:
    """The batches, read from now on by a thread of their own, at most PREFETCH_BATCHES ahead of the caller."""
    ahead: queue.Queue[pa.RecordBatch | BaseException | None] = queue.Queue(maxsize=PREFETCH_BATCHES)

    def read() -> None:
        try:
            for batch in batches:
                ahead.put(batch)
            ahead.put(None)
        except BaseException as error:  # handed to the consumer, which raises it
            ahead.put(error)

    thread = threading.Thread(target=read, name=name, daemon=True)
    thread.start()

    def taken() -> Iterator[pa.RecordBatch]:
        while (item := ahead.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
        thread.join()

    return taken()
