"""Spark's side of the batch check: the vectorized reference and the fingerprints run in the executors.

Each side is read once by ``mapInArrow`` (the same NumPy and compiled code as on the other
engines). A Python worker adds each row's fingerprint into the 2^16 key buckets and hands back,
per partition, at most one row per bucket: Spark then moves bucket sums, not rows. The source's
worker also hands back the raw rows the vectorized reference does not vouch for (and rows of
clients with a reject); the mart's flagged clients (those, by their exact id) are left out of
its fingerprints by a join in Spark and read whole. The driver receives the bucket sums of each
side (at most 2^16 rows each), the flagged rows, and, only when a bucket differs, that bucket's
rows. No table is collected whole, so the same code checks a table no single machine could hold.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa

from services.crm.arrow_arrays import bools, integers, numpy_integers, texts
from services.crm.arrow_check import account_vouched
from services.crm.client_priority import PriorityScorer
from services.crm.fingerprints import (
    BUCKET_BITS,
    Buckets,
    KeySet,
    bucket_of,
    expected_fingerprints,
    hash_text,
    mart_fingerprints,
    mart_rows,
)
from services.crm.policy import Policy
from services.crm.queries import coded_mart_select, mart_select, rejects_select, source_select
from services.crm.raw_clients import RAW_COLUMNS, RawClient, clean_text
from services.crm.scalar_check import compare
from services.crm.vectorized_reference import U64, Labels, as_string, reference_batch
from services.crm.verification_report import RECHECK_ROWS, VerificationReport
from services.crm.warehouse import Relations

# Rows per Arrow batch handed to the Python workers: Spark's default (10,000) makes NumPy's
# per-call overhead dominate.
ARROW_BATCH_ROWS = 1 << 17
# A bucket's 64-bit sum travels as two 32-bit halves in Spark longs: Spark adds the partitions'
# halves exactly (no wrap-around below 2^31 partitions) and the driver joins them modulo 2^64.
HALF = np.uint64(0xFFFFFFFF)
SUM_FIELDS = "bucket int, low long, high long, rows long"
SUM_SCHEMA = pa.schema({"bucket": pa.int32(), "low": pa.int64(), "high": pa.int64(), "rows": pa.int64()})
_views = itertools.count()


def verify_spark(
    session: Any,
    relations: Relations,
    scorer: PriorityScorer,
    on_progress: Callable[[int], None] | None = None,
    recheck_rows: int = RECHECK_ROWS,
) -> VerificationReport:
    """The row-by-row check of one Spark warehouse, in the executors; the same report as ``scalar_check.compare``.

    `on_progress` is called once, with the mart's row count, when the buckets have been compared.
    Past `recheck_rows` rows in differing buckets, the rest of those buckets are counted, not read.
    """
    # Spark's stage progress bars and INFO logs would print into the caller's output.
    session.sparkContext.setLogLevel("ERROR")
    previous = session.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch")
    session.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(ARROW_BATCH_ROWS))
    try:
        return _verify(session, relations, scorer, on_progress, recheck_rows)
    finally:
        session.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", previous)


def _verify(
    session: Any,
    relations: Relations,
    scorer: PriorityScorer,
    on_progress: Callable[[int], None] | None,
    recheck_rows: int,
) -> VerificationReport:
    from pyspark import StorageLevel  # imported late: only Spark targets need pyspark

    policy, labels = scorer.policy, Labels.for_policy(scorer.policy)
    run = next(_views)
    source_columns = [name.lower() for name in session.table(relations.source).columns]
    source = session.sql(source_select(relations.source, source_columns, "string"))
    # The rejects come to the driver whole: the scalar check compares every one, and the build
    # fails when they exceed max_reject_share of the source.
    rejects = [row.asDict() for row in session.sql(rejects_select(relations.rejects)).collect()]
    rejected_keys = hash_text(texts([row["client_id"] for row in rejects]))

    # The source's sums and irregular rows come out of one read, kept by Spark (it is small) for
    # the two queries that take them apart.
    source_schema = f"{SUM_FIELDS}, {', '.join(f'{name} string' for name in RAW_COLUMNS)}"
    expected = source.mapInArrow(partial(_source_sums, policy, labels, rejected_keys), source_schema)
    expected = expected.persist(StorageLevel.MEMORY_AND_DISK)
    flagged_view = f"crm_verify_flagged_{run}"
    try:
        irregular_rows = expected.where("bucket is null").select(*RAW_COLUMNS).collect()
        irregular = [RawClient.from_mapping(row.asDict()) for row in irregular_rows]
        expected_sums = _collected_sums(expected.where("bucket is not null"))
    finally:
        expected.unpersist()
    try:
        # The clients the scalar check compares, by their exact id: Spark leaves them out of the
        # mart's fingerprints (coded by Spark: no text crosses to Python) and sends their rows whole.
        flagged_ids = {str(row["client_id"]) for row in rejects if row["client_id"] is not None}
        flagged_ids |= {text for row in irregular if (text := clean_text(row.client_id)) is not None}
        flagged = session.createDataFrame(pa.table({"client_id": texts(sorted(flagged_ids))}))
        flagged.createOrReplaceTempView(flagged_view)
        regular_mart = _joined(relations.mart, flagged_view, "left anti")
        coded = session.sql(coded_mart_select(regular_mart, labels, spark_string))
        observed_sums = _collected_sums(coded.mapInArrow(partial(_mart_sums, labels), SUM_FIELDS))
        kept = session.sql(mart_select(_joined(relations.mart, flagged_view, "left semi")))
        kept_mart = [row for batch in kept.toArrow().to_batches() for row in mart_rows(batch)]
        if on_progress is not None:
            on_progress(int(observed_sums.counts.sum()) + len(kept_mart))
        differing, unchecked = expected_sums.to_recheck(observed_sums, recheck_rows)
        if differing.size:
            # Some regular client disagrees: read the rows of its bucket again, from both sides.
            recheck = np.zeros(1 << BUCKET_BITS, np.bool_)
            recheck[differing] = True
            picked_source = source.mapInArrow(partial(_picked_source, policy, rejected_keys, recheck), source.schema)
            irregular += [RawClient.from_mapping(row.asDict()) for row in picked_source.collect()]
            regular_rows = session.sql(mart_select(regular_mart))
            picked_mart = regular_rows.mapInArrow(partial(_picked_mart, recheck), regular_rows.schema)
            kept_mart += [row for batch in picked_mart.toArrow().to_batches() for row in mart_rows(batch)]
    finally:
        session.catalog.dropTempView(flagged_view)
    report = compare(irregular, kept_mart, rejects, scorer)
    return account_vouched(report, expected_sums, observed_sums, differing, unchecked)


def _collected_sums(sums: Any) -> Buckets:
    """A frame of per-partition bucket sums (SUM_FIELDS), added up by Spark and brought to the driver."""
    totals = sums.groupBy("bucket").agg({"low": "sum", "high": "sum", "rows": "sum"}).toArrow()
    buckets = Buckets()
    index = numpy_integers(totals.column("bucket")).astype(np.int64)
    low = numpy_integers(totals.column("sum(low)")).astype(np.uint64)
    high = numpy_integers(totals.column("sum(high)")).astype(np.uint64)
    with np.errstate(over="ignore"):
        buckets.table[index, 0] = low + (high << np.uint64(32))
    buckets.table[index, 1] = numpy_integers(totals.column("sum(rows)")).astype(np.uint64)
    return buckets


def _joined(mart: str, flagged_view: str, join: str) -> str:
    """The mart's rows whose client_id is (semi) or is not (anti) among the flagged ids, as a subquery."""
    return f"(select m.* from {mart} as m {join} join {flagged_view} as f on m.client_id = f.client_id) as mart"


def spark_string(text: str) -> str:
    """A Spark SQL string literal: Spark reads backslash escapes inside quotes."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


# ---------- run in the executors (module-level, so Spark pickles them by reference)


def _source_sums(
    policy: Policy, labels: Labels, rejected_keys: U64, batches: Iterator[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    """The partition's regular rows as bucket sums, then (bucket null) the raw rows the scalar check must see.

    Regular: vouched for by the vectorized reference, and no reject for its key.
    """
    rejected = KeySet([rejected_keys])
    buckets = Buckets()
    for batch in batches:
        reference = reference_batch(batch, policy)
        keys, fingerprints = expected_fingerprints(reference, labels)
        regular = reference.vouched & ~rejected.contains(keys)
        buckets.add(keys, fingerprints, regular)
        if not regular.all():
            rows = batch.filter(bools(~regular)).select(list(RAW_COLUMNS))
            nulls = {field.name: pa.nulls(rows.num_rows, field.type) for field in SUM_SCHEMA}
            # Plain utf8 whatever Spark sent (large or view strings): every batch must match the schema.
            yield pa.record_batch({**nulls, **{name: as_string(rows.column(name)) for name in RAW_COLUMNS}})
    sums = _sums_batch(buckets)
    yield pa.record_batch(
        {
            **dict(zip(sums.schema.names, sums.columns, strict=True)),
            **{name: pa.nulls(sums.num_rows, pa.string()) for name in RAW_COLUMNS},
        }
    )


def _mart_sums(labels: Labels, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The partition's mart rows (`queries.coded_mart_select`) as bucket sums."""
    buckets = Buckets()
    for batch in batches:
        keys, fingerprints = mart_fingerprints(batch, labels)
        buckets.add(keys, fingerprints, np.ones(batch.num_rows, np.bool_))
    yield _sums_batch(buckets)


def _sums_batch(buckets: Buckets) -> pa.RecordBatch:
    """One row per touched bucket: its index, its sum's 32-bit halves, its row count."""
    touched = np.flatnonzero(buckets.counts)
    sums = buckets.sums[touched]
    columns = [
        integers(touched.astype(np.int32)),
        integers((sums & HALF).astype(np.int64)),
        integers((sums >> np.uint64(32)).astype(np.int64)),
        integers(buckets.counts[touched]),
    ]
    return pa.record_batch(columns, schema=SUM_SCHEMA)


def _picked_source(
    policy: Policy, rejected_keys: U64, recheck: np.ndarray, batches: Iterator[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    """The regular source rows in a bucket to recheck."""
    rejected = KeySet([rejected_keys])
    for batch in batches:
        reference = reference_batch(batch, policy)
        keys = reference.key_hashes
        regular = reference.vouched & ~rejected.contains(keys)
        yield batch.filter(bools(regular & recheck[bucket_of(keys)])).select(list(RAW_COLUMNS))


def _picked_mart(recheck: np.ndarray, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The regular mart rows in a bucket to recheck."""
    for batch in batches:
        keys = hash_text(batch.column("client_id"))
        yield batch.filter(bools(recheck[bucket_of(keys)]))
