"""Spark's side of the batch check: the vectorized reference and the fingerprints run in the executors.

The source and the mart are fingerprinted by ``mapInArrow`` (the same NumPy code as on the other
engines), the bucket sums are aggregated and compared in Spark, and the driver receives only the
ids of buckets that differ, then the rows the scalar check must see: rows the vectorized
reference did not vouch for, rows of clients with a reject, and rows of differing buckets. No
table is collected whole, so the same code checks a table no single machine could hold.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa

from services.crm.arrow_check import account_vouched
from services.crm.client_priority import PriorityScorer
from services.crm.fingerprints import (
    KeySet,
    bucket_of,
    expected_fingerprints,
    hash_text,
    mart_fingerprints,
    mart_rows,
)
from services.crm.policy import Policy
from services.crm.queries import mart_select, rejects_select, source_select
from services.crm.raw_clients import RAW_COLUMNS, RawClient, clean_text
from services.crm.scalar_check import compare
from services.crm.vectorized_reference import U64, Labels, reference_batch
from services.crm.verification_report import VerificationReport
from services.crm.warehouse import Relations

# Rows per Arrow batch handed to the Python workers: Spark's default (10,000) makes NumPy's
# per-call overhead dominate.
ARROW_BATCH_ROWS = 1 << 17
# A 64-bit fingerprint is summed as two 32-bit halves in Spark longs: exact, no wrap-around,
# below 2^31 rows per bucket.
HALF = np.uint64(0xFFFFFFFF)
FINGERPRINT_SCHEMA = "key_hash long, bucket int, low long, high long, vouched boolean"
_views = itertools.count()


def verify_spark(
    session: Any,
    relations: Relations,
    scorer: PriorityScorer,
    on_progress: Callable[[int], None] | None = None,
) -> VerificationReport:
    """The row-by-row check of one Spark warehouse, in the executors; the same report as ``scalar_check.compare``.

    `on_progress` is called once, with the mart's row count, when the buckets have been compared.
    """
    # Spark's stage progress bars and INFO logs would print into the caller's output.
    session.sparkContext.setLogLevel("ERROR")
    previous = session.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch")
    session.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(ARROW_BATCH_ROWS))
    try:
        return _verify(session, relations, scorer, on_progress)
    finally:
        session.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", previous)


def _verify(
    session: Any, relations: Relations, scorer: PriorityScorer, on_progress: Callable[[int], None] | None
) -> VerificationReport:
    policy, labels = scorer.policy, Labels.for_policy(scorer.policy)
    run = next(_views)
    source_columns = [name.lower() for name in session.table(relations.source).columns]
    source = session.sql(source_select(relations.source, source_columns, "string"))
    mart = session.sql(mart_select(relations.mart))
    # The rejects come to the driver whole: the scalar check compares every one, and the build
    # fails when they exceed max_reject_share of the source.
    rejects = [row.asDict() for row in session.sql(rejects_select(relations.rejects)).toLocalIterator()]
    rejected_keys = hash_text(pa.array([row["client_id"] for row in rejects], pa.string()))

    expected = source.mapInArrow(partial(_source_fingerprints, policy, rejected_keys), FINGERPRINT_SCHEMA)
    observed = mart.mapInArrow(partial(_mart_fingerprints, labels), FINGERPRINT_SCHEMA)
    session.createDataFrame([(int(key),) for key in rejected_keys.view(np.int64)], "key_hash long").union(
        expected.where("not vouched").select("key_hash")
    ).createOrReplaceTempView(f"crm_verify_flagged_{run}")
    expected.where("vouched").createOrReplaceTempView(f"crm_verify_expected_{run}")
    observed.createOrReplaceTempView(f"crm_verify_observed_{run}")
    differing_rows = session.sql(_bucket_comparison(run)).collect()
    vouched = int(next(row["rows"] for row in differing_rows if row["bucket"] == -1) or 0)
    differing = np.array([row["bucket"] for row in differing_rows if row["bucket"] >= 0], np.int64)
    mart_count = int(next(row["mart_rows"] for row in differing_rows if row["bucket"] == -1) or 0)
    if on_progress is not None:
        on_progress(mart_count)

    recheck = np.zeros(1 << 22, np.bool_)
    recheck[differing] = True
    picked_source = source.mapInArrow(partial(_picked_source, policy, rejected_keys, recheck), source.schema)
    irregular = [RawClient.from_mapping(row.asDict()) for row in picked_source.toLocalIterator()]
    flagged = np.concatenate([rejected_keys, _clean_key_hashes(irregular)])
    picked_mart = mart.mapInArrow(partial(_picked_mart, labels, flagged, recheck), mart.schema)
    kept_mart = [row for batch in _arrow_batches(picked_mart) for row in mart_rows(batch)]
    report = compare(irregular, kept_mart, rejects, scorer)
    expected_in_differing = 0 if not differing.size else _count_in(session, run, differing)
    for view in ("flagged", "expected", "observed"):
        session.catalog.dropTempView(f"crm_verify_{view}_{run}")
    return account_vouched(report, vouched - expected_in_differing, int(differing.size))


def _bucket_comparison(run: int) -> str:
    """SQL: the buckets whose sums or counts differ, and one summary row (bucket -1) with the totals."""
    return f"""
        with expected as (
            select bucket, sum(low) as low, sum(high) as high, count(*) as rows
            from crm_verify_expected_{run} group by bucket
        ),
        observed as (
            select bucket, sum(low) as low, sum(high) as high, count(*) as rows
            from crm_verify_observed_{run} as o
            left anti join crm_verify_flagged_{run} as f on o.key_hash = f.key_hash
            group by bucket
        )
        select coalesce(e.bucket, o.bucket) as bucket, e.rows as rows, cast(null as bigint) as mart_rows
        from expected as e full outer join observed as o on e.bucket = o.bucket
        where not (e.low <=> o.low and e.high <=> o.high and e.rows <=> o.rows)
        union all
        select -1, (select sum(rows) from expected), (select count(*) from crm_verify_observed_{run})
    """


def _count_in(session: Any, run: int, buckets: np.ndarray) -> int:
    """How many vouched source rows fall in these buckets."""
    session.createDataFrame([(int(bucket),) for bucket in buckets], "bucket int").createOrReplaceTempView(
        f"crm_verify_differing_{run}"
    )
    try:
        sql = (
            f"select count(*) from crm_verify_expected_{run}"
            f" where bucket in (select bucket from crm_verify_differing_{run})"
        )
        return int(session.sql(sql).collect()[0][0])
    finally:
        session.catalog.dropTempView(f"crm_verify_differing_{run}")


def _arrow_batches(frame: Any) -> Iterator[pa.RecordBatch]:
    yield from frame.toArrow().to_batches()


def _clean_key_hashes(rows: list[RawClient]) -> U64:
    return hash_text(pa.array([clean_text(row.client_id) for row in rows], pa.string()))


# ---------- run in the executors (module-level, so Spark pickles them by reference)


def _source_fingerprints(
    policy: Policy, rejected_keys: U64, batches: Iterator[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    """Each source row's bucket and fingerprint halves, whether it is vouched for, and its clean key's hash."""
    rejected = KeySet([rejected_keys])
    for batch in batches:
        reference = reference_batch(batch, policy)
        keys, fingerprints = expected_fingerprints(batch, reference)
        vouched = reference.vouched & ~rejected.contains(keys)
        if not vouched.all():
            ids = batch.column("client_id").filter(pa.array(~vouched)).to_pylist()
            keys[~vouched] = hash_text(pa.array([clean_text(value) for value in ids], pa.string()))
        yield _fingerprint_batch(keys, fingerprints, vouched)


def _mart_fingerprints(labels: Labels, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        keys, fingerprints = mart_fingerprints(batch, labels)
        yield _fingerprint_batch(keys, fingerprints, np.ones(batch.num_rows, np.bool_))


def _fingerprint_batch(keys: U64, fingerprints: U64, vouched: np.ndarray) -> pa.RecordBatch:
    return pa.record_batch(
        {
            "key_hash": pa.array(keys.view(np.int64)),
            "bucket": pa.array(bucket_of(keys).astype(np.int32)),
            "low": pa.array((fingerprints & HALF).astype(np.int64)),
            "high": pa.array((fingerprints >> np.uint64(32)).astype(np.int64)),
            "vouched": pa.array(vouched),
        }
    )


def _picked_source(
    policy: Policy, rejected_keys: U64, recheck: np.ndarray, batches: Iterator[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    """The source rows the scalar check must see: not vouched for, or in a bucket to recheck."""
    rejected = KeySet([rejected_keys])
    for batch in batches:
        reference = reference_batch(batch, policy)
        keys, _ = expected_fingerprints(batch, reference)
        vouched = reference.vouched & ~rejected.contains(keys)
        yield batch.filter(pa.array(~vouched | recheck[bucket_of(keys)])).select(list(RAW_COLUMNS))


def _picked_mart(
    labels: Labels, flagged_keys: U64, recheck: np.ndarray, batches: Iterator[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    """The mart rows the scalar check must see: of a flagged client, or in a bucket to recheck."""
    flagged = KeySet([flagged_keys])
    for batch in batches:
        keys = hash_text(batch.column("client_id"))
        yield batch.filter(pa.array(flagged.contains(keys) | recheck[bucket_of(keys)]))
