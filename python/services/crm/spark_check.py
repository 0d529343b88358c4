"""Spark's side of the batch check: the vectorized reference and the fingerprints run in the executors.

The source and the mart are each read once, by ``mapInArrow`` (the same NumPy and compiled code as
on the other engines), into a persisted frame of each row's bucket and fingerprint, carrying the
row itself only where the scalar check must see it: source rows the vectorized reference does
not vouch for, and mart rows of clients flagged by those or by a reject. The bucket sums are
aggregated and compared in Spark, and the driver receives only the flagged rows and the ids of
buckets that differ. No table is collected whole, so the same code checks a table no single
machine could hold; a differing bucket (a failing check) costs one more read of each side.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from services.crm.arrow_check import account_vouched
from services.crm.client_priority import PriorityScorer
from services.crm.fingerprints import (
    BUCKETS,
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
FINGERPRINT_FIELDS = "key_hash long, bucket int, low long, high long, regular boolean"
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
    from pyspark import StorageLevel  # imported late: only Spark targets need pyspark

    policy, labels = scorer.policy, Labels.for_policy(scorer.policy)
    run = next(_views)
    source_columns = [name.lower() for name in session.table(relations.source).columns]
    source = session.sql(source_select(relations.source, source_columns, "string"))
    mart = session.sql(mart_select(relations.mart))
    # The rejects come to the driver whole: the scalar check compares every one, and the build
    # fails when they exceed max_reject_share of the source.
    rejects = [row.asDict() for row in session.sql(rejects_select(relations.rejects)).collect()]
    rejected_keys = hash_text(pa.array([row["client_id"] for row in rejects], pa.string()))

    # Each side is read once; what the driver and the bucket comparison need is kept by Spark
    # (in memory, spilling to disk) for the few queries that follow.
    expected_schema = f"{FINGERPRINT_FIELDS}, {', '.join(f'{name} string' for name in RAW_COLUMNS)}"
    expected = source.mapInArrow(partial(_source_fingerprints, policy, rejected_keys), expected_schema)
    expected = expected.persist(StorageLevel.MEMORY_AND_DISK)
    frames = [expected]
    try:
        irregular = [RawClient.from_mapping(row.asDict()) for row in expected.where("not regular").collect()]
        flagged = np.concatenate([rejected_keys, _clean_key_hashes(irregular)])
        observed_schema = f"{FINGERPRINT_FIELDS}, {', '.join(_ddl(field) for field in mart.schema.fields)}"
        observed = mart.mapInArrow(partial(_mart_fingerprints, labels, flagged), observed_schema)
        observed = observed.persist(StorageLevel.MEMORY_AND_DISK)
        frames.append(observed)
        expected.createOrReplaceTempView(f"crm_verify_expected_{run}")
        observed.createOrReplaceTempView(f"crm_verify_observed_{run}")
        summary = session.sql(_bucket_comparison(run)).collect()
        totals = next(row for row in summary if row["bucket"] == -1)
        differing = np.array([row["bucket"] for row in summary if row["bucket"] >= 0], np.int64)
        if on_progress is not None:
            on_progress(int(totals["mart_rows"] or 0))
        kept = observed.where("not regular").select(*mart.columns)
        kept_mart = [row for batch in kept.toArrow().to_batches() for row in mart_rows(batch)]
        expected_in_differing = 0
        if differing.size:
            # Some regular client disagrees: read the rows of its bucket again, from both sides.
            expected_in_differing = int(expected.where(f"regular and bucket in ({_listed(differing)})").count())
            recheck = np.zeros(BUCKETS, np.bool_)
            recheck[differing] = True
            picked_source = source.mapInArrow(partial(_picked_source, policy, rejected_keys, recheck), source.schema)
            irregular += [RawClient.from_mapping(row.asDict()) for row in picked_source.collect()]
            picked_mart = mart.mapInArrow(partial(_picked_mart, flagged, recheck), mart.schema)
            kept_mart += [row for batch in picked_mart.toArrow().to_batches() for row in mart_rows(batch)]
    finally:
        for view in ("expected", "observed"):
            session.catalog.dropTempView(f"crm_verify_{view}_{run}")
        for frame in frames:
            frame.unpersist()
    report = compare(irregular, kept_mart, rejects, scorer)
    return account_vouched(report, int(totals["rows"] or 0) - expected_in_differing, int(differing.size))


def _bucket_comparison(run: int) -> str:
    """SQL: the buckets whose sums or counts differ, and one summary row (bucket -1) with the totals."""
    return f"""
        with expected as (
            select bucket, sum(low) as low, sum(high) as high, count(*) as rows
            from crm_verify_expected_{run} where regular group by bucket
        ),
        observed as (
            select bucket, sum(low) as low, sum(high) as high, count(*) as rows
            from crm_verify_observed_{run} where regular group by bucket
        )
        select coalesce(e.bucket, o.bucket) as bucket, e.rows as rows, cast(null as bigint) as mart_rows
        from expected as e full outer join observed as o on e.bucket = o.bucket
        where not (e.low <=> o.low and e.high <=> o.high and e.rows <=> o.rows)
        union all
        select -1, (select sum(rows) from expected), (select count(*) from crm_verify_observed_{run})
    """


def _listed(buckets: np.ndarray) -> str:
    return ", ".join(str(int(bucket)) for bucket in buckets)


def _ddl(field: Any) -> str:
    return f"`{field.name}` {field.dataType.simpleString()}"


def _clean_key_hashes(rows: list[RawClient]) -> U64:
    return hash_text(pa.array([clean_text(row.client_id) for row in rows], pa.string()))


# ---------- run in the executors (module-level, so Spark pickles them by reference)


def _source_fingerprints(
    policy: Policy, rejected_keys: U64, batches: Iterator[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    """Each source row's clean key's hash, bucket and fingerprint halves, whether it is regular (vouched
    for, no reject), and the raw row where it is not."""
    rejected = KeySet([rejected_keys])
    for batch in batches:
        reference = reference_batch(batch, policy)
        keys, fingerprints = expected_fingerprints(batch, reference)
        regular = reference.vouched & ~rejected.contains(keys)
        if not regular.all():
            ids = batch.column("client_id").filter(pa.array(~regular)).to_pylist()
            keys[~regular] = hash_text(pa.array([clean_text(value) for value in ids], pa.string()))
        yield _with_irregular_rows(_fingerprint_batch(keys, fingerprints, regular), batch.select(list(RAW_COLUMNS)))


def _mart_fingerprints(
    labels: Labels, flagged_keys: U64, batches: Iterator[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    """Each mart row's key hash, bucket and fingerprint halves, and the row itself where its client is flagged."""
    flagged = KeySet([flagged_keys])
    for batch in batches:
        keys, fingerprints = mart_fingerprints(batch, labels)
        yield _with_irregular_rows(_fingerprint_batch(keys, fingerprints, ~flagged.contains(keys)), batch)


def _fingerprint_batch(keys: U64, fingerprints: U64, regular: np.ndarray) -> pa.RecordBatch:
    return pa.record_batch(
        {
            "key_hash": pa.array(keys.view(np.int64)),
            "bucket": pa.array(bucket_of(keys).astype(np.int32)),
            "low": pa.array((fingerprints & HALF).astype(np.int64)),
            "high": pa.array((fingerprints >> np.uint64(32)).astype(np.int64)),
            "regular": pa.array(regular),
        }
    )


def _with_irregular_rows(fingerprints: pa.RecordBatch, rows: pa.RecordBatch) -> pa.RecordBatch:
    """The fingerprints, then the rows' columns: null on regular rows, whose values the fingerprint holds."""
    regular = fingerprints.column("regular")
    columns = dict(zip(fingerprints.schema.names, fingerprints.columns, strict=True))
    for name, column in zip(rows.schema.names, rows.columns, strict=True):
        columns[name] = (
            column if not pc.any(regular).as_py() else pc.if_else(regular, pa.nulls(len(column), column.type), column)
        )
    return pa.record_batch(columns)


def _picked_source(
    policy: Policy, rejected_keys: U64, recheck: np.ndarray, batches: Iterator[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    """The regular source rows in a bucket to recheck."""
    rejected = KeySet([rejected_keys])
    for batch in batches:
        reference = reference_batch(batch, policy)
        keys, _ = expected_fingerprints(batch, reference)
        regular = reference.vouched & ~rejected.contains(keys)
        yield batch.filter(pa.array(regular & recheck[bucket_of(keys)])).select(list(RAW_COLUMNS))


def _picked_mart(flagged_keys: U64, recheck: np.ndarray, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The mart rows of unflagged clients in a bucket to recheck."""
    flagged = KeySet([flagged_keys])
    for batch in batches:
        keys = hash_text(batch.column("client_id"))
        yield batch.filter(pa.array(~flagged.contains(keys) & recheck[bucket_of(keys)]))
