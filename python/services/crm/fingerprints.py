"""64-bit fingerprints of compared rows, summed into fixed key buckets: how two sides are compared without a join.

A row's fingerprint is DuckDB's ``hash(<the compared columns>)`` of the row as the mart holds it
(text as text, money as decimal(18, 2), flags as boolean, `priority` as integer), combined with
its key's hash, ``hash(client_id)``, as DuckDB combines the hashes of several values. It is
computed here from the reference's codes and cents by `kernels.row_fingerprints`. So every engine
(and every Spark executor) computes the same values from the same bytes, and DuckDB can compute
its mart's side in SQL (`queries.fingerprint_select`: the two hashes, which `keyed` combines).
Money enters as integer cents, flags and categories as small codes: no float anywhere.
"""

from __future__ import annotations

import functools
from decimal import Decimal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from services.crm.arrow_arrays import array_of, numpy_integers, present, texts
from services.crm.kernels import (
    NULL_CENTS,
    NULL_HASH,
    add_to_buckets,
    decimal_cents,
    hash_texts,
    keyed_fingerprints,
    murmur64,
    read_only,
    row_fingerprints,
)
from services.crm.vectorized_reference import (
    MONEY_COLUMNS,
    NULL_CODE,
    PACKED_COLUMNS,
    UNKNOWN_CODE,
    Labels,
    ReferenceBatch,
    as_string,
    text_buffers,
)
from services.crm.verification_report import COMPARED_COLUMNS

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

# 2^16 buckets: 16 bytes each per side (sum, count) is 1 MB whatever N is, which stays in a core's
# cache as rows are added (2^20 buckets, 16 MB, made each add a cache miss: 0.09 against 0.03 s
# per 10M rows), and a mismatching bucket holds N / 2^16 clients to recheck (about 150 at 10M).
BUCKET_BITS = 16
# The mart's money is decimal(18, 2) on every engine (its dbt contract).
MONEY_SCALE = 2
# A mart value outside a column's labels (coded UNKNOWN_CODE on PostgreSQL and Spark): no
# expected row holds one, so any hash other than a label's tells them apart.
UNKNOWN_HASH = np.uint64(0x5851F42D4C957F2D)
# Where each compared column's part of a fingerprint comes from (kernels.row_fingerprints).
NAME_PART, MONEY_PART, CODE_PART = 0, 1, 2
LAYOUT = np.array(
    [
        (NAME_PART, 0)
        if name == "client_name"
        else (MONEY_PART, MONEY_COLUMNS.index(name))
        if name in MONEY_COLUMNS
        else (CODE_PART, PACKED_COLUMNS.index(name))
        for name in COMPARED_COLUMNS
    ],
    np.int64,
)


def hash_text(text: pa.Array | pa.ChunkedArray) -> U64:
    """DuckDB's 64-bit hash of each text's UTF-8 bytes (NULL_HASH for null), the same on every engine and machine."""
    return hash_texts(*text_buffers(text))


def value_hash(value: object) -> np.uint64:
    """DuckDB's hash of one label as the mart types it: text, boolean, or integer."""
    if isinstance(value, str):
        return np.uint64(hash_text(texts([value]))[0])
    if isinstance(value, bool | int):
        # DuckDB hashes a boolean or an integer as its 32-bit two's complement, zero-extended.
        return murmur64(np.uint64(int(value) & 0xFFFFFFFF))
    raise TypeError(f"no label of type {type(value).__name__}")


@functools.cache
def code_hashes(labels: Labels) -> U64:
    """Per packed column, the hash of each code's value: its label, UNKNOWN_HASH, or null's hash (read-only, shared)."""
    table = np.full((len(PACKED_COLUMNS), 16), UNKNOWN_HASH, np.uint64)
    for position, name in enumerate(PACKED_COLUMNS):
        for code, value in enumerate(labels.values()[name]):
            table[position, code] = value_hash(value)
        table[position, NULL_CODE] = NULL_HASH
    table.flags.writeable = False
    return table


def fingerprint(key_hash: U64, name: U64, packed: U64, money: tuple[I64, I64, I64, I64], labels: Labels) -> U64:
    """One 64-bit value per row: DuckDB's hash of every compared column, keyed (money: MONEY_COLUMNS' cents)."""
    aum, investments, amount_tested, threshold = (read_only(np.asarray(column, np.int64)) for column in money)
    return row_fingerprints(
        key_hash, name, (aum, investments, amount_tested, threshold), packed, (LAYOUT, code_hashes(labels))
    )


def keyed(key_hashes: U64, row_hashes: U64) -> U64:
    """Fingerprints from the key hashes and the hashes of the compared columns, as an engine computed them."""
    return keyed_fingerprints(read_only(key_hashes), read_only(row_hashes))


def expected_fingerprints(reference: ReferenceBatch, labels: Labels) -> tuple[U64, U64]:
    """Key hashes and fingerprints of a source batch's reference rows (meaningful where vouched).

    A vouched row's raw client_id and name are their own clean values, so they hash as the mart's.
    """
    keys = reference.key_hashes
    return keys, fingerprint(keys, reference.name_hashes, reference.packed, reference.money(), labels)


def mart_fingerprints(batch: pa.RecordBatch, labels: Labels) -> tuple[U64, U64]:
    """Key hashes and fingerprints of a batch of mart rows.

    From `queries.mart_select` (the categorical columns as text, coded here) or from
    `queries.coded_mart_select` (coded by the engine, as `packed_codes`).
    """
    keys = hash_text(batch.column("client_id"))
    names = hash_text(batch.column("client_name"))
    if "packed_codes" in batch.schema.names:
        codes = numpy_integers(batch.column("packed_codes")).astype(np.int64).view(np.uint64)
    else:
        codes = mart_codes(batch, labels)
    return keys, fingerprint(keys, names, codes, mart_cents(batch), labels)


def mart_codes(batch: pa.RecordBatch, labels: Labels) -> U64:
    """The mart's categorical columns as codes into `labels`, packed as vectorized_reference.pack_codes does."""
    packed = np.zeros(batch.num_rows, np.uint64)
    for position, (name, values) in enumerate((name, labels.values()[name]) for name in PACKED_COLUMNS):
        column = batch.column(name)
        if pa.types.is_large_string(column.type) or pa.types.is_string_view(column.type):
            column = as_string(column)
        index = pc.index_in(column, value_set=array_of(values, column.type))
        codes = numpy_integers(index, null=UNKNOWN_CODE).astype(np.uint64)
        codes[~present(column)] = NULL_CODE
        packed |= codes << np.uint64(4 * position)
    return packed


def mart_cents(batch: pa.RecordBatch) -> tuple[I64, I64, I64, I64]:
    aum, investments, amount_tested, threshold = (cents(batch.column(name)) for name in MONEY_COLUMNS)
    return aum, investments, amount_tested, threshold


def cents(money: pa.Array | pa.ChunkedArray) -> I64:
    """Money as exact integer cents (NULL_CENTS for null): integer cents as they are, or a decimal of scale 2.

    A decimal128's unscaled integer *is* the cents: read from its buffer, no arithmetic.
    """
    if isinstance(money, pa.ChunkedArray):
        money = money.combine_chunks()
    if pa.types.is_integer(money.type):
        return numpy_integers(money, null=int(NULL_CENTS)).astype(np.int64)
    if not (pa.types.is_decimal128(money.type) and money.type.scale == MONEY_SCALE):
        raise TypeError(f"money must be integer cents or a decimal of scale {MONEY_SCALE}, not {money.type}")
    words = np.frombuffer(money.buffers()[1], "<i8").reshape(-1, 2)[money.offset : money.offset + len(money)]
    amounts, fits = decimal_cents(read_only(words), read_only(present(money)))
    if not fits:
        raise ValueError("a money value does not fit 64-bit cents, which no decimal(18, 2) can hold")
    return amounts


def mart_rows(batch: pa.RecordBatch) -> list[dict[str, object]]:
    """Mart rows as the scalar check reads them: money as exact Decimals (from cents where the engine sent cents)."""
    rows: list[dict[str, object]] = batch.to_pylist()
    in_cents = [name for name in MONEY_COLUMNS if pa.types.is_integer(batch.schema.field(name).type)]
    for row in rows:
        for name in in_cents:
            value = row[name]
            row[name] = None if value is None else Decimal(int(str(value))).scaleb(-MONEY_SCALE)
    return rows


def bucket_of(key_hashes: U64, bits: int = BUCKET_BITS) -> I64:
    """A key's bucket: the top `bits` bits of its hash (which an int64 holds as they are: no copy)."""
    return (key_hashes >> np.uint64(64 - bits)).view(np.int64)


class Buckets:
    """Order-independent sums of fingerprints per key bucket, for one side (expected or mart).

    One (sum, count) pair per bucket, side by side: adding a row touches one cache line.
    """

    def __init__(self, bits: int = BUCKET_BITS) -> None:
        self.bits = bits
        self.table = np.zeros((1 << bits, 2), np.uint64)

    @property
    def sums(self) -> U64:
        return self.table[:, 0]

    @property
    def counts(self) -> I64:
        return self.table[:, 1].view(np.int64)

    def add(self, key_hashes: U64, fingerprints: U64, selected: Bools) -> None:
        """Add the selected rows' fingerprints to their key's bucket."""
        add_to_buckets(self.table, read_only(key_hashes), read_only(fingerprints), selected, self.bits)

    def remove(self, key_hashes: U64, fingerprints: U64) -> None:
        """Take these rows' fingerprints out of their buckets again (few rows: NumPy's unbuffered add)."""
        buckets = bucket_of(key_hashes, self.bits)
        with np.errstate(over="ignore"):
            np.add.at(self.table[:, 0], buckets, -fingerprints)
        np.add.at(self.table[:, 1], buckets, np.uint64(2**64 - 1))

    def to_recheck(self, other: Buckets, most_rows: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """The differing buckets split in two: the first ones, holding at most `most_rows` rows on the
        two sides together (always one at least), to read again, and the rest.

        When a mart differs widely, reading back every differing bucket would hold both whole sides
        in memory for the scalar check: the first ones show what differs, the rest are counted.
        """
        differing = self.differing(other)
        rows = np.cumsum(self.counts[differing] + other.counts[differing])
        cut = max(1, int(np.searchsorted(rows, most_rows, side="right"))) if differing.size else 0
        return differing[:cut], differing[cut:]

    def differing(self, other: Buckets) -> npt.NDArray[np.intp]:
        """The buckets whose sums or counts disagree."""
        return np.flatnonzero((self.table != other.table).any(axis=1))


class KeySet:
    """A sorted set of key hashes, with a bitmap of their top bits to skip the search for most keys."""

    # Finer than the buckets: few keys share their top 20 bits with one of the set's.
    BITS = 20

    def __init__(self, parts: list[U64]) -> None:
        self.keys = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.uint64)
        self.buckets = np.zeros(1 << self.BITS, np.bool_)
        self.buckets[bucket_of(self.keys, self.BITS)] = True

    def contains(self, key_hashes: U64) -> Bools:
        """np.isin(key_hashes, keys), without sorting the batch."""
        found = self.buckets[bucket_of(key_hashes, self.BITS)]
        candidates = np.flatnonzero(found)
        if candidates.size:
            positions = np.minimum(np.searchsorted(self.keys, key_hashes[candidates]), self.keys.size - 1)
            found[candidates] = self.keys[positions] == key_hashes[candidates]
        return found
