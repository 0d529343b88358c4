"""The check's hot loops, compiled: text hashes, the plain-text test, plain amounts in cents, bucket sums.

In NumPy each became a dozen passes over gathered temporaries (and ufunc.at slowed to ~100 ns a
row on real fingerprints); here each is one pass over the column's own buffers, compiled by
Numba and run without the GIL, so the check's threads compute side by side. Every function is
plain integer arithmetic, exact and the same on every machine, engine and Spark executor.

Text inputs are what ``vectorized_reference.text_buffers`` returns: int64 offsets (rows + 1),
the UTF-8 data bytes, and a mask of the rows that are not null.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

# The hash of a null text; every non-null text, the empty one too, hashes from its length and bytes.
NULL_HASH = np.uint64(0x6A09E667F3BCC908)
TEXT_SEED = np.uint64(0xBB67AE8584CAA73B)
LENGTH_WEIGHT = np.uint64(0x9E3779B97F4A7C15)
WORD_WEIGHT = np.uint64(0xC2B2AE3D27D4EB4F)
WORD_BYTES = 8
# Printable ASCII without the space: a plain text starts and ends with one of these.
FIRST_VISIBLE, LAST_VISIBLE = 0x21, 0x7E
# The amounts vouched for: [0-9]{1,16}(\.[0-9]{1,2})?, below decimal(18, 2)'s limit and exact in cents.
PLAIN_MAX_WHOLE_DIGITS = 16
PLAIN_MAX_DECIMALS = 2
ZERO, NINE, POINT = ord("0"), ord("9"), ord(".")

F = TypeVar("F", bound=Callable[..., Any])


def _compiled(function: F) -> F:
    """Compiled on first use and cached beside this file: a process (or a Spark worker) that finds the
    cache loads the machine code instead of compiling it again."""
    return cast(F, numba.njit(nogil=True, cache=True)(function))


@_compiled
def mix(value: np.uint64) -> np.uint64:
    """splitmix64's finalizer: every input bit affects every output bit."""
    value ^= value >> np.uint64(30)
    value *= np.uint64(0xBF58476D1CE4E5B9)
    value ^= value >> np.uint64(27)
    value *= np.uint64(0x94D049BB133111EB)
    return value ^ (value >> np.uint64(31))


@_compiled
def hash_texts(offsets: I64, data: npt.NDArray[np.uint8], present: Bools) -> U64:
    """A 64-bit hash of each text's UTF-8 bytes; NULL_HASH where not present.

    h = mix(length * LENGTH_WEIGHT + TEXT_SEED), then for each 8-byte little-endian word of the
    text (the last one zero-padded): h = mix(h + word * WORD_WEIGHT).
    """
    rows = offsets.size - 1
    hashes = np.empty(rows, np.uint64)
    for row in range(rows):
        if not present[row]:
            hashes[row] = NULL_HASH
            continue
        start, length = offsets[row], offsets[row + 1] - offsets[row]
        value = mix(np.uint64(length) * LENGTH_WEIGHT + TEXT_SEED)
        for position in range(0, length, WORD_BYTES):
            word = np.uint64(0)
            for byte in range(min(WORD_BYTES, length - position)):
                word |= np.uint64(data[start + position + byte]) << np.uint64(8 * byte)
            value = mix(value + word * WORD_WEIGHT)
        hashes[row] = value
    return hashes


@_compiled
def plain_texts(offsets: I64, data: npt.NDArray[np.uint8], present: Bools) -> Bools:
    """Text every cleaning rule leaves as it is: present, not empty, ASCII, a visible character at each end."""
    rows = offsets.size - 1
    plain = np.zeros(rows, np.bool_)
    for row in range(rows):
        start, stop = offsets[row], offsets[row + 1]
        if not present[row] or stop == start:
            continue
        if not (FIRST_VISIBLE <= data[start] <= LAST_VISIBLE and FIRST_VISIBLE <= data[stop - 1] <= LAST_VISIBLE):
            continue
        ascii_only = True
        for position in range(start, stop):
            if data[position] >= 0x80:
                ascii_only = False
                break
        plain[row] = ascii_only
    return plain


@_compiled
def plain_amounts(offsets: I64, data: npt.NDArray[np.uint8], present: Bools) -> tuple[Bools, I64]:
    """Which texts are plain amounts, [0-9]{1,16}(\\.[0-9]{1,2})?, and their value in integer cents (0 if not plain)."""
    rows = offsets.size - 1
    plain = np.zeros(rows, np.bool_)
    amounts = np.zeros(rows, np.int64)
    for row in range(rows):
        if not present[row]:
            continue
        whole_digits, decimals, seen_point, valid, units = 0, 0, False, True, 0
        for position in range(offsets[row], offsets[row + 1]):
            byte = data[position]
            if ZERO <= byte <= NINE:
                units = units * 10 + (byte - ZERO)
                if seen_point:
                    decimals += 1
                else:
                    whole_digits += 1
            elif byte == POINT and not seen_point:
                seen_point = True
            else:
                valid = False
                break
        valid = valid and 1 <= whole_digits <= PLAIN_MAX_WHOLE_DIGITS
        valid = valid and (not seen_point or 1 <= decimals <= PLAIN_MAX_DECIMALS)
        if valid:
            plain[row] = True
            for _ in range(PLAIN_MAX_DECIMALS - decimals):
                units *= 10
            amounts[row] = units
    return plain, amounts


@_compiled
def add_to_buckets(table: U64, key_hashes: U64, fingerprints: U64, selected: Bools, bucket_bits: int) -> None:
    """Add each selected row's fingerprint to its bucket's sum (wrapping) and count it.

    `table` holds a (sum, count) pair per bucket, side by side so one row touches one cache line;
    a key's bucket is its hash's top `bucket_bits` bits (``fingerprints.bucket_of``).
    """
    shift = np.uint64(64 - bucket_bits)
    for row in range(key_hashes.size):
        if selected[row]:
            bucket = key_hashes[row] >> shift
            table[bucket, 0] += fingerprints[row]
            table[bucket, 1] += np.uint64(1)


@_compiled
def decimal_cents(words: npt.NDArray[np.int64], present: Bools, null_cents: np.int64) -> tuple[I64, bool]:
    """A decimal128 column of scale 2 as int64 cents (its unscaled integers), and whether every one fits.

    `words` are the column's 128-bit values as (low, high) int64 pairs; a value fits when its high
    word only extends the sign of the low one.
    """
    cents = np.empty(present.size, np.int64)
    fits = True
    for row in range(present.size):
        if present[row]:
            low = words[row, 0]
            fits = fits and words[row, 1] == (low >> 63)
            cents[row] = low
        else:
            cents[row] = null_cents
    return cents, fits
