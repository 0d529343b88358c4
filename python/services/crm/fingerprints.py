"""64-bit fingerprints of compared rows, summed into fixed key buckets: how two sides are compared without a join.

Everything here is NumPy over Arrow buffers, so every engine (and every Spark executor) computes
the same values: the key and the name are hashed from their UTF-8 bytes here, never by an
engine's own hash(). Money enters as integer cents, flags and categories as small codes, the name
as a hash of its exact bytes: no float anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from services.crm.vectorized_reference import (
    MONEY_COLUMNS,
    NULL_CENTS,
    NULL_CODE,
    PACKED_COLUMNS,
    UNKNOWN_CODE,
    Labels,
    ReferenceBatch,
    as_string,
    blank,
    string_buffers,
)

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

# 2^22 buckets: 16 bytes each per side (sum, count) is ~64 MB whatever N is, and a
# mismatching bucket holds N / 2^22 clients to recheck exactly (24 at 100M).
BUCKET_BITS = 22
BUCKETS = 1 << BUCKET_BITS
# The hash of a null text; every non-null text, the empty one too, hashes from its length and bytes.
NULL_HASH = np.uint64(0x6A09E667F3BCC908)
TEXT_SEED = np.uint64(0xBB67AE8584CAA73B)
WORD_BYTES = 8
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


def hash_text(text: pa.Array | pa.ChunkedArray) -> U64:
    """A 64-bit hash of each text's UTF-8 bytes (NULL_HASH for null), the same on every engine and machine.

    Eight bytes at a time: each step adds the next little-endian word (zero-padded at the end)
    and mixes; work is proportional to the bytes, however long the longest text.
    """
    text = as_string(text)
    offsets, data = string_buffers(text)
    lengths = np.diff(offsets)
    padded = np.concatenate([data, np.zeros(WORD_BYTES, np.uint8)])
    # Every byte position seen as the start of a little-endian 64-bit word (unaligned loads).
    words: U64 = np.ndarray(shape=(padded.size - WORD_BYTES + 1,), dtype=np.dtype("<u8"), buffer=padded, strides=(1,))
    with np.errstate(over="ignore"):
        seeded: U64 = lengths.astype(np.uint64) * np.uint64(COLUMN_WEIGHTS[0]) + TEXT_SEED
        hashes = mix(seeded)
        active = np.flatnonzero(lengths > 0)
        position = 0
        while active.size:
            remaining = lengths[active] - position
            word = words[offsets[active] + position]
            tail = remaining < WORD_BYTES
            if tail.any():
                shift = (np.minimum(remaining[tail], WORD_BYTES - 1) * 8).astype(np.uint64)
                word[tail] &= (np.uint64(1) << shift) - np.uint64(1)
            step: U64 = hashes[active] + word * np.uint64(COLUMN_WEIGHTS[1])
            hashes[active] = mix(step)
            active = active[remaining > WORD_BYTES]
            position += WORD_BYTES
    hashes[np.asarray(pc.is_null(text).to_numpy(zero_copy_only=False), np.bool_)] = NULL_HASH
    return hashes


def name_hash(text: pa.Array | pa.ChunkedArray) -> U64:
    """A source name's hash as the mart holds it: a blank raw name is a null client_name."""
    hashes = hash_text(text)
    hashes[blank(as_string(text))] = NULL_HASH
    return hashes


def mix(values: U64) -> U64:
    """splitmix64's finalizer: every input bit affects every output bit."""
    with np.errstate(over="ignore"):
        values = values ^ (values >> np.uint64(30))
        values = values * np.uint64(0xBF58476D1CE4E5B9)
        values = values ^ (values >> np.uint64(27))
        values = values * np.uint64(0x94D049BB133111EB)
        return values ^ (values >> np.uint64(31))


def fingerprint(key_hash: U64, name: U64, packed: U64, *money: I64) -> U64:
    """One 64-bit value per row from its key and every compared column (wrapping arithmetic, then a mix)."""
    with np.errstate(over="ignore"):
        total = key_hash.copy()
        for weight, values in zip(COLUMN_WEIGHTS, (name, packed, *money), strict=False):
            total += values.astype(np.uint64) * np.uint64(weight)
        return mix(total)


def expected_fingerprints(batch: pa.RecordBatch, reference: ReferenceBatch) -> tuple[U64, U64]:
    """Key hashes and fingerprints of a source batch's reference rows (meaningful where vouched).

    A vouched row's raw client_id and name are their own clean values, so they hash as the mart's.
    """
    keys = hash_text(batch.column("client_id"))
    return keys, fingerprint(keys, name_hash(batch.column("client_name")), reference.packed, *reference.money())


def mart_fingerprints(batch: pa.RecordBatch, labels: Labels) -> tuple[U64, U64]:
    """Key hashes and fingerprints of a batch of mart rows (`queries.mart_select`: money in cents)."""
    keys = hash_text(batch.column("client_id"))
    names = hash_text(batch.column("client_name"))
    return keys, fingerprint(keys, names, mart_codes(batch, labels), *mart_cents(batch))


def mart_codes(batch: pa.RecordBatch, labels: Labels) -> U64:
    """The mart's categorical columns as codes into `labels`, packed as vectorized_reference.pack_codes does."""
    packed = np.zeros(batch.num_rows, np.uint64)
    for position, (name, values) in enumerate((name, labels.values()[name]) for name in PACKED_COLUMNS):
        column = batch.column(name)
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = as_string(column)
        index = pc.index_in(column, value_set=pa.array(values, type=column.type))
        codes = np.asarray(pc.fill_null(index, UNKNOWN_CODE).to_numpy(zero_copy_only=False), np.uint64)
        codes[np.asarray(pc.is_null(column).to_numpy(zero_copy_only=False), np.bool_)] = NULL_CODE
        packed |= codes << np.uint64(4 * position)
    return packed


def mart_cents(batch: pa.RecordBatch) -> tuple[I64, ...]:
    return tuple(
        np.asarray(pc.fill_null(batch.column(name), NULL_CENTS).to_numpy(zero_copy_only=False), np.int64)
        for name in MONEY_COLUMNS
    )


def mart_rows(batch: pa.RecordBatch) -> list[dict[str, object]]:
    """Mart rows as the scalar check reads them: money back from integer cents to exact Decimals."""
    rows: list[dict[str, object]] = batch.to_pylist()
    for row in rows:
        for name in MONEY_COLUMNS:
            cents = row[name]
            row[name] = None if cents is None else Decimal(int(str(cents))).scaleb(-2)
    return rows


def bucket_of(key_hashes: U64) -> I64:
    return (key_hashes >> np.uint64(64 - BUCKET_BITS)).astype(np.int64)


@dataclass
class Buckets:
    """Order-independent sums of fingerprints per key bucket, for one side (expected or mart)."""

    sums: U64
    counts: I64

    @classmethod
    def empty(cls) -> Buckets:
        return cls(np.zeros(BUCKETS, np.uint64), np.zeros(BUCKETS, np.int64))

    def add(self, key_hashes: U64, fingerprints: U64) -> None:
        bucket = bucket_of(key_hashes)
        # ufunc.at, not bincount(minlength=BUCKETS): that would allocate and add all 2^22 buckets per batch.
        np.add.at(self.counts, bucket, 1)
        np.add.at(self.sums, bucket, fingerprints)

    def differing(self, other: Buckets) -> npt.NDArray[np.intp]:
        """The buckets whose sums or counts disagree."""
        return np.flatnonzero((self.sums != other.sums) | (self.counts != other.counts))


class KeySet:
    """A sorted set of key hashes, with a bitmap of their buckets to skip the search for most keys."""

    def __init__(self, parts: list[U64]) -> None:
        self.keys = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.uint64)
        self.buckets = np.zeros(BUCKETS, np.bool_)
        self.buckets[bucket_of(self.keys)] = True

    def contains(self, key_hashes: U64) -> Bools:
        """np.isin(key_hashes, keys), without sorting the batch."""
        found = self.buckets[bucket_of(key_hashes)]
        candidates = np.flatnonzero(found)
        if candidates.size:
            positions = np.minimum(np.searchsorted(self.keys, key_hashes[candidates]), self.keys.size - 1)
            found[candidates] = self.keys[positions] == key_hashes[candidates]
        return found
