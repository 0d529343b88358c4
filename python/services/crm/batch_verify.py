"""The row-by-row check at warehouse speed: the reference vectorized over Arrow record batches, streamed from DuckDB.

How it stays exact and flat in memory (docs/decisions/0005-batch-verification.md):

* Every source row is parsed and scored in NumPy from its raw text, with the scalar rules'
  constants (thresholds from the policy, labels from ``client_priority``). A row the vectorized
  parser cannot vouch for (anything but plain text: padding, exponents, sub-cent digits, junk,
  non-ASCII flags, an ``updated_at``) is not guessed at: its client_id is *flagged*.
* Every expected row and every mart row is reduced to a 64-bit fingerprint of its key and all
  compared columns, summed into a fixed number of buckets by key. Memory is the bucket arrays,
  whatever N is. No join: source and mart are each scanned once.
* Flagged clients, every client with a reject, and every bucket whose sums or counts differ are
  then compared exactly by the scalar ``verify.compare`` on just those rows, which reports
  each mismatch with mart and reference values, as the row-by-row check always has.

DuckDB only scans, hashes keys (``hash()``, so source and mart land in the same bucket) and
encodes the mart's values as integers; every reference value is computed here from raw text.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from services.crm.client_priority import TIERS, PriorityScorer, client_tier, tier_label, tier_priority
from services.crm.policy import Policy
from services.crm.raw_clients import (
    INVESTOR_TYPES,
    RAW_COLUMNS,
    RawClient,
    clean_text,
    parse_boolean_text,
    parse_investor_type_text,
)
from services.crm.verify import COMPARED_COLUMNS, REJECT_KEY_COLUMNS, VerificationReport, compare
from services.crm.warehouse import Relations

T = TypeVar("T")
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

# 2^22 buckets: 24 bytes each per side (sum, count) is ~100 MB whatever N is, and a
# mismatching bucket holds N / 2^22 clients to recheck exactly (24 at 100M).
BUCKET_BITS = 22
BATCH_ROWS = 1 << 18
# DuckDB caches scanned blocks up to its memory limit (80% of RAM by default): cap it so the
# check's memory does not grow with the table.
DUCKDB_MEMORY_LIMIT = "256MB"
PREFETCH_BATCHES = 2
WORKERS = 2

TIER_REASONS = ("single_family_office", "aum_at_least_tier_1_min", "aum_at_least_tier_2_min", "aum_below_tier_2_min")
QP_CATEGORIES = ("natural_person", "family_company", "sfo_as_family_company", "entity")
UNKNOWN_CODE = 14  # a mart value outside the expected ones
NULL_CODE = 15
NULL_CENTS = np.int64(-(2**63))
# The amounts the vectorized parser vouches for: [0-9]{1,16}(\.[0-9]{1,2})?, exact in cents with no rounding.
PLAIN_MAX_WHOLE_DIGITS = 16
PLAIN_MAX_DECIMALS = 2
# Odd multipliers spread each column over all 64 bits before the fingerprint is mixed.
COLUMN_WEIGHTS = (
    0x9E3779B97F4A7C15,
    0xC2B2AE3D27D4EB4F,
    0x165667B19E3779F9,
    0xD6E8FEB86659FD93,
    0xA0761D6478BD642F,
    0xE7037ED1A0B428DB,
    0x8EBC6AF09C88C6E3,
)


@dataclass(frozen=True)
class Labels:
    """The strings each categorical column may hold, in code order, taken from the scalar reference."""

    tiers: tuple[str, ...]
    tier_labels: tuple[str, ...]
    tier_reasons: tuple[str, ...]
    qp_categories: tuple[str, ...]
    investor_types: tuple[str, ...]
    policy_versions: tuple[str, ...]

    @classmethod
    def for_policy(cls, policy: Policy) -> Labels:
        return cls(
            tiers=TIERS,
            tier_labels=tuple(tier_label(tier, policy) for tier in TIERS),
            tier_reasons=TIER_REASONS,
            qp_categories=QP_CATEGORIES,
            investor_types=INVESTOR_TYPES,
            policy_versions=(policy.version,),
        )


@dataclass
class Buckets:
    """Order-independent sums of fingerprints per key bucket, for one side (expected or mart)."""

    sums: U64
    counts: I64

    @classmethod
    def empty(cls) -> Buckets:
        return cls(np.zeros(1 << BUCKET_BITS, np.uint64), np.zeros(1 << BUCKET_BITS, np.int64))

    def add(self, key_hashes: U64, fingerprints: U64) -> None:
        bucket = bucket_of(key_hashes)
        np.add.at(self.sums, bucket, fingerprints)
        np.add.at(self.counts, bucket, 1)


def bucket_of(key_hashes: U64) -> npt.NDArray[np.int64]:
    return (key_hashes >> np.uint64(64 - BUCKET_BITS)).astype(np.int64)


def verify_duckdb(
    connection: duckdb.DuckDBPyConnection,
    relations: Relations,
    scorer: PriorityScorer,
    on_progress: Callable[[int], None] | None = None,
    batch_rows: int = BATCH_ROWS,
) -> VerificationReport:
    """The row-by-row check of one DuckDB warehouse, vectorized; the same report as ``verify.compare``."""
    policy = scorer.policy
    labels = Labels.for_policy(policy)
    previous = connection.sql(
        "select current_setting('memory_limit'), current_setting('enable_progress_bar')"
    ).fetchall()[0]
    # DuckDB's own progress bar would print into the caller's output; the caller has on_progress.
    connection.execute(f"set memory_limit = '{DUCKDB_MEMORY_LIMIT}'; set enable_progress_bar = false")
    try:
        return _verify(connection, relations, scorer, labels=labels, on_progress=on_progress, batch_rows=batch_rows)
    finally:
        connection.execute(f"set memory_limit = '{previous[0]}'; set enable_progress_bar = {bool(previous[1])}")


def _verify(
    connection: duckdb.DuckDBPyConnection,
    relations: Relations,
    scorer: PriorityScorer,
    *,
    labels: Labels,
    on_progress: Callable[[int], None] | None,
    batch_rows: int,
) -> VerificationReport:
    present = {str(row[0]).lower() for row in connection.execute(f"describe {relations.source}").fetchall()}
    raw_select = ", ".join(
        f"cast({column} as varchar) as {column}" if column in present else f"cast(null as varchar) as {column}"
        for column in RAW_COLUMNS
    )
    # Every client with a reject is checked exactly: its copies may be split between mart and rejects.
    flagged = [
        batch.column(0).to_numpy(zero_copy_only=False).astype(np.uint64)
        for batch in _batches(connection, f"select {MART_KEY} from {relations.rejects}", batch_rows)
    ]
    rejected_keys = KeySet(flagged)

    expected = Buckets.empty()
    irregular_rows: list[dict[str, object]] = []
    # Hashes of the raw text: for the rows the vectorized path takes, the raw text is its own clean value.
    source_query = (
        f"select {raw_select}, hash(cast(client_id as varchar)) as key_hash,"
        f" hash(cast(client_name as varchar)) as name_hash from {relations.source}"
    )

    def expect(batch: pa.RecordBatch) -> tuple[pa.RecordBatch, U64, Bools, U64]:
        key_hashes = _numpy(batch, "key_hash", np.uint64)
        fast, fingerprints = expected_fingerprints(batch, scorer.policy, key_hashes)
        fast &= ~rejected_keys.contains(key_hashes)
        return batch, key_hashes, fast, fingerprints

    for batch, key_hashes, fast, fingerprints in _mapped(expect, _batches(connection, source_query, batch_rows)):
        irregular_rows += batch.filter(pa.array(~fast)).select(list(RAW_COLUMNS)).to_pylist()
        expected.add(key_hashes[fast], fingerprints[fast])
    flagged.append(_hashes(connection, [clean_text(row["client_id"]) for row in irregular_rows]))  # type: ignore[arg-type]
    flagged_keys = KeySet(flagged)

    actual = Buckets.empty()
    mart_rows = 0
    mart_query = mart_codes_query(relations.mart, labels)

    def observe(batch: pa.RecordBatch) -> tuple[int, U64, U64]:
        key_hashes = _numpy(batch, "key_hash", np.uint64)
        regular = ~flagged_keys.contains(key_hashes)
        return batch.num_rows, key_hashes[regular], mart_fingerprints(batch)[regular]

    for rows, key_hashes, fingerprints in _mapped(observe, _batches(connection, mart_query, batch_rows)):
        actual.add(key_hashes, fingerprints)
        mart_rows += rows
        if on_progress is not None:
            on_progress(mart_rows)

    differing = np.flatnonzero((expected.sums != actual.sums) | (expected.counts != actual.counts))
    with _registered(connection, flagged_keys.keys, differing):
        if differing.size:
            # Some regular client disagrees: read every source row of its bucket again.
            irregular_rows = list(
                _rows(connection, f"select {raw_select} from {relations.source} where {_picked(SOURCE_KEY)}")
            )
        mart = list(_rows(connection, f"select * from {relations.mart} where {_picked(MART_KEY)}"))
        reject_columns = ", ".join(REJECT_KEY_COLUMNS)
        rejects = _rows(connection, f"select {reject_columns} from {relations.rejects}")
        report = compare((RawClient.from_mapping(row) for row in irregular_rows), mart, rejects, scorer)  # type: ignore[arg-type]
    regular_rows = int(expected.counts.sum() - expected.counts[differing].sum())
    report.rows_compared += regular_rows
    report.rows_matched += regular_rows
    report.rows_vouched = regular_rows
    report.buckets_rechecked = int(differing.size)
    report.mismatches.sort(key=lambda mismatch: mismatch.client_id)
    return report


SOURCE_KEY = "hash(nullif(trim(cast(client_id as varchar)), ''))"
MART_KEY = "hash(client_id)"


def _hashes(connection: duckdb.DuckDBPyConnection, client_ids: list[str | None]) -> U64:
    """DuckDB's hash() of each client_id, as the mart's rows are keyed."""
    connection.register("flagged_client_ids", pa.table({"client_id": pa.array(client_ids, pa.string())}))
    try:
        hashed = connection.sql(f"select {MART_KEY} from flagged_client_ids").fetchnumpy()
    finally:
        connection.unregister("flagged_client_ids")
    return np.asarray(next(iter(hashed.values())), dtype=np.uint64)


def _picked(key: str) -> str:
    """SQL: the row's key is flagged, or falls in a bucket whose sums differ."""
    return (
        f"({key}) in (select key_hash from recheck_keys)"
        f" or cast(({key}) >> {64 - BUCKET_BITS} as bigint) in (select bucket from recheck_buckets)"
    )


@contextmanager
def _registered(connection: duckdb.DuckDBPyConnection, keys: U64, buckets: npt.NDArray[np.intp]) -> Iterator[None]:
    connection.register("recheck_keys", pa.table({"key_hash": pa.array(keys, pa.uint64())}))
    connection.register("recheck_buckets", pa.table({"bucket": pa.array(buckets.astype(np.int64), pa.int64())}))
    try:
        yield
    finally:
        connection.unregister("recheck_keys")
        connection.unregister("recheck_buckets")


class KeySet:
    """A sorted set of key hashes, with a bitmap of their buckets to skip the search for most keys."""

    def __init__(self, parts: list[U64]) -> None:
        self.keys = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.uint64)
        self.buckets = np.zeros(1 << BUCKET_BITS, np.bool_)
        self.buckets[bucket_of(self.keys)] = True

    def contains(self, key_hashes: U64) -> Bools:
        """np.isin(key_hashes, keys), without sorting the batch."""
        found = self.buckets[bucket_of(key_hashes)]
        candidates = np.flatnonzero(found)
        if candidates.size:
            positions = np.minimum(np.searchsorted(self.keys, key_hashes[candidates]), self.keys.size - 1)
            found[candidates] = self.keys[positions] == key_hashes[candidates]
        return found


def expected_fingerprints(batch: pa.RecordBatch, policy: Policy, key_hashes: U64) -> tuple[Bools, U64]:
    """Which rows the vectorized parser vouches for, and the fingerprint of each one's reference row."""
    fast = _is_clean_text(batch.column("client_id"))
    client_name = batch.column("client_name")
    fast &= _is_clean_text(client_name) | _is_null(client_name)
    updated_at = batch.column("updated_at")
    if updated_at.null_count != len(updated_at):
        fast &= _is_null(_trimmed(updated_at))

    aum_plain, aum = _plain_cents(batch.column("aum"))
    investments_text = batch.column("investments")
    investments_plain, investments = _plain_cents(investments_text)
    # Blank is null or nothing but spaces: counting them needs no trimmed copy of the column.
    investments_spaces = pc.equal(pc.count_substring(investments_text, " "), pc.binary_length(investments_text))
    investments_blank = _is_null(investments_text) | _filled(investments_spaces)
    fast &= aum_plain & (investments_blank | investments_plain)

    # Few distinct spellings: parse each once (the dictionary), then spread by index.
    sfo_values, sfo_index = _dictionary(batch.column("is_sfo"))
    sfo_parsed = np.array([_parse_flag(value) for value in sfo_values] + [0], dtype=np.int64)[sfo_index]
    fast &= sfo_parsed >= 0
    is_sfo = sfo_parsed == 1

    type_values, type_index = _dictionary(batch.column("investor_type"))
    investor_type = np.array([_parse_investor_type(value) for value in type_values] + [0], dtype=np.int64)[type_index]
    fast &= investor_type >= 0

    codes = reference_codes(
        policy,
        aum=aum,
        investments=investments,
        investments_known=~investments_blank,
        is_sfo=is_sfo,
        investor_type=np.maximum(investor_type, 0),
    )
    name_hash = _numpy(batch, "name_hash", np.uint64)
    return fast, fingerprint(key_hashes, name_hash, *codes)


def _parse_flag(raw: str) -> int:
    """1 true, 0 false, -1 when the vectorized path leaves it to the scalar one (rejects, non-ASCII)."""
    if not raw.isascii():
        return -1
    parsed = parse_boolean_text(clean_text(raw))
    return -1 if parsed is None else int(parsed)


def _parse_investor_type(raw: str) -> int:
    if not raw.isascii():
        return -1
    parsed = parse_investor_type_text(clean_text(raw))
    return -1 if parsed is None else INVESTOR_TYPES.index(parsed)


def _dictionary(text: pa.Array) -> tuple[list[str], npt.NDArray[np.int64]]:
    """The distinct non-null values and, per row, an index into them; null rows point one past the end."""
    encoded = pc.dictionary_encode(text)
    values = encoded.dictionary.to_pylist()
    indices = pc.fill_null(encoded.indices, len(values)).to_numpy(zero_copy_only=False).astype(np.int64)
    return values, indices


def reference_codes(
    policy: Policy, *, aum: I64, investments: I64, investments_known: Bools, is_sfo: Bools, investor_type: I64
) -> tuple[U64, I64, I64, I64, I64]:
    """The reference's columns for plain rows: packed categorical codes and the four money columns in cents.

    The same rule ladder as client_priority.PriorityScorer, over whole arrays.
    """
    tier_1, tier_2 = _cents_of(policy.tier_1_min_aum), _cents_of(policy.tier_2_min_aum)
    person, entity = _cents_of(policy.qp_min_investments_person), _cents_of(policy.qp_min_investments_entity)
    reason = np.select([is_sfo, aum >= tier_1, aum >= tier_2], [0, 1, 2], default=3)
    tier_of_reason = np.array([TIERS.index(client_tier(name)) for name in TIER_REASONS])
    priority_of_tier = np.array([tier_priority(name) for name in TIERS])
    tier = tier_of_reason[reason]
    category = np.select(
        [
            is_sfo,
            investor_type == INVESTOR_TYPES.index("family_company"),
            investor_type == INVESTOR_TYPES.index("entity"),
        ],
        [
            QP_CATEGORIES.index("sfo_as_family_company"),
            QP_CATEGORIES.index("family_company"),
            QP_CATEGORIES.index("entity"),
        ],
        default=QP_CATEGORIES.index("natural_person"),
    )
    amount_tested = np.where(investments_known & (investments > aum), investments, aum)
    threshold = np.where(category == QP_CATEGORIES.index("entity"), entity, person).astype(np.int64)
    qualified = amount_tested >= threshold
    packed = pack_codes(
        is_sfo=is_sfo.astype(np.int64),
        investor_type=investor_type,
        tier=tier,
        tier_label=tier,
        priority=priority_of_tier[tier],
        tier_reason=reason,
        qp_category=category,
        is_qualified_purchaser=qualified.astype(np.int64),
        qp_basis=np.where(qualified, category, NULL_CODE),
        policy_version=np.zeros_like(tier),
    )
    return packed, aum, np.where(investments_known, investments, NULL_CENTS), amount_tested, threshold


MONEY_COLUMNS = ("aum", "investments", "qp_amount_tested", "qp_threshold")
# Every other compared column but the name (hashed) is a small code; deriving them from
# COMPARED_COLUMNS means a column added to the comparison cannot be left out of the fingerprint.
PACKED_COLUMNS = tuple(name for name in COMPARED_COLUMNS if name not in (*MONEY_COLUMNS, "client_name"))


def pack_codes(**codes: npt.NDArray[np.int64]) -> U64:
    """Small codes (0-15), four bits each, in PACKED_COLUMNS order."""
    packed = np.zeros(len(next(iter(codes.values()))), np.uint64)
    for position, name in enumerate(PACKED_COLUMNS):
        packed |= codes[name].astype(np.uint64) << np.uint64(4 * position)
    return packed


def mart_codes_query(mart: str, labels: Labels) -> str:
    """The mart's compared columns as integers: codes into `labels` packed as pack_codes does, cents, hashed text."""

    def code(column: str, values: tuple[object, ...]) -> str:
        whens = " ".join(f"when {column} = {_literal(value)} then {index}" for index, value in enumerate(values))
        return f"case when {column} is null then {NULL_CODE} {whens} else {UNKNOWN_CODE} end"

    values: dict[str, tuple[object, ...]] = {
        "is_sfo": (False, True),
        "investor_type": labels.investor_types,
        "tier": labels.tiers,
        "tier_label": labels.tier_labels,
        "priority": (0, 1, 2, 3),
        "tier_reason": labels.tier_reasons,
        "qp_category": labels.qp_categories,
        "is_qualified_purchaser": (False, True),
        "qp_basis": labels.qp_categories,
        "policy_version": labels.policy_versions,
    }
    packed = " + ".join(
        f"cast({code(name, values[name])} as ubigint) * {16**position}" for position, name in enumerate(PACKED_COLUMNS)
    )
    columns = [
        "hash(client_id) as key_hash",
        "hash(client_name) as name_hash",
        f"{packed} as packed",
        *MONEY_COLUMNS,
    ]
    return f"select {', '.join(columns)} from {mart}"


def mart_fingerprints(batch: pa.RecordBatch) -> U64:
    money = (_decimal_cents(batch.column(name)) for name in MONEY_COLUMNS)
    return fingerprint(
        _numpy(batch, "key_hash", np.uint64),
        _numpy(batch, "name_hash", np.uint64),
        _numpy(batch, "packed", np.uint64),
        *money,
    )


def _numpy(batch: pa.RecordBatch, name: str, dtype: type[np.generic]) -> npt.NDArray[Any]:
    return np.asarray(batch.column(name).to_numpy(zero_copy_only=False), dtype=dtype)


def fingerprint(key_hash: U64, name_hash: U64, packed: U64, *money: I64) -> U64:
    """One 64-bit value per row from its key and every compared column (wrapping arithmetic, then a mix)."""
    with np.errstate(over="ignore"):
        total = key_hash.copy()
        for weight, values in zip(COLUMN_WEIGHTS, (name_hash, packed, *money), strict=False):
            total += values.astype(np.uint64) * np.uint64(weight)
        return _mix(total)


def _mix(values: U64) -> U64:
    """splitmix64's finalizer: every input bit affects every output bit."""
    values = values ^ (values >> np.uint64(30))
    values *= np.uint64(0xBF58476D1CE4E5B9)
    values ^= values >> np.uint64(27)
    values *= np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


def _mapped(function: Callable[[pa.RecordBatch], T], batches: Iterator[pa.RecordBatch]) -> Iterator[T]:
    """function over the batches in WORKERS threads, results in order, at most WORKERS batches ahead.

    Arrow's kernels and NumPy release the GIL, so batches are computed side by side.
    """
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="verify") as pool:
        pending: deque[Future[T]] = deque()
        for batch in batches:
            pending.append(pool.submit(function, batch))
            if len(pending) > WORKERS:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _batches(connection: duckdb.DuckDBPyConnection, sql: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """The query's record batches, the next one read by DuckDB while the caller works on this one."""
    reader = connection.sql(sql).to_arrow_reader(batch_rows)
    ahead: queue.Queue[pa.RecordBatch | BaseException | None] = queue.Queue(maxsize=PREFETCH_BATCHES)

    def read() -> None:
        try:
            for batch in reader:
                ahead.put(batch)
            ahead.put(None)
        except BaseException as error:  # handed to the consumer, which raises it
            ahead.put(error)

    thread = threading.Thread(target=read, name="duckdb-reader", daemon=True)
    thread.start()
    while (item := ahead.get()) is not None:
        if isinstance(item, BaseException):
            raise item
        yield item
    thread.join()


def _rows(connection: duckdb.DuckDBPyConnection, sql: str) -> Iterator[dict[str, object]]:
    for batch in _batches(connection, sql, BATCH_ROWS):
        yield from batch.to_pylist()


def _filled(mask: pa.Array) -> Bools:
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def _is_null(values: pa.Array) -> Bools:
    return np.asarray(pc.is_null(values).to_numpy(zero_copy_only=False), dtype=np.bool_)


def _trimmed(text: pa.Array) -> pa.Array:
    """raw_clients.clean_text over an array: spaces trimmed, blank to null."""
    trimmed = pc.utf8_trim(text, characters=" ")
    return pc.if_else(pc.equal(pc.utf8_length(trimmed), 0), pa.scalar(None, pa.string()), trimmed)


def _plain_cents(text: pa.Array) -> tuple[Bools, I64]:
    """Which texts are plain amounts, and their exact value in integer cents (0 where not plain).

    Plain is digits with an optional point and one or two decimals, at most 16 whole digits: the
    digits without the point are the amount in units of 10^-decimals, an exact int64.
    """
    digits = pc.replace_substring(text, ".", "", max_replacements=1)
    point = np.asarray(pc.fill_null(pc.find_substring(text, "."), -1).to_numpy(zero_copy_only=False), np.int64)
    length = _int_column(pc.binary_length(text))
    decimals = np.where(point < 0, 0, length - point - 1)
    whole = np.where(point < 0, length, point)
    plain = (
        _filled(pc.ascii_is_decimal(digits))
        & (whole >= 1)
        & (whole <= PLAIN_MAX_WHOLE_DIGITS)
        & ((point < 0) | ((decimals >= 1) & (decimals <= PLAIN_MAX_DECIMALS)))
    )
    units = np.zeros(len(text), np.int64)
    # Only plain texts reach the integer parser, which would refuse anything else.
    plain_digits = digits if plain.all() else digits.filter(pa.array(plain))
    units[plain] = _int_column(pc.cast(plain_digits, pa.int64()))
    scale = np.array([100, 10, 1], dtype=np.int64)[np.clip(decimals, 0, PLAIN_MAX_DECIMALS)]
    return plain, units * scale


def _int_column(values: pa.Array) -> I64:
    return np.asarray(pc.fill_null(values, 0).to_numpy(zero_copy_only=False), dtype=np.int64)


def _is_clean_text(text: pa.Array) -> Bools:
    """Text that clean_text leaves as it is: not blank, no leading or trailing space."""
    padded = pc.or_(pc.starts_with(text, " "), pc.ends_with(text, " "))
    return _filled(pc.and_not(pc.greater(pc.binary_length(text), 0), padded))


def _decimal_cents(values: pa.Array) -> I64:
    """A decimal(18, 2) column as exact integer cents, NULL_CENTS where null.

    decimal128 holds two little-endian 64-bit words per value; amounts below 10^18 live in the low one.
    """
    if values.type != pa.decimal128(18, 2):
        values = pc.cast(values, pa.decimal128(18, 2))
    words = np.frombuffer(values.buffers()[1], dtype=np.int64)[2 * values.offset : 2 * (values.offset + len(values))]
    return np.where(_is_null(values), NULL_CENTS, words[::2])


def _cents_of(amount: object) -> int:
    from decimal import Decimal

    assert isinstance(amount, Decimal)
    return int(amount * 100)


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"
