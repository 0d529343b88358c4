"""The check's hot loops, compiled: text hashes, the plain-text test, plain amounts in cents, spellings, bucket sums.

In NumPy each became a dozen passes over gathered temporaries (and ufunc.at slowed to ~100 ns a
row on real fingerprints); here each is one pass over the columns' own buffers, compiled by
Numba and run without the GIL, so the check's threads compute side by side. Every function is
plain integer arithmetic, exact and the same on every machine, engine and Spark executor.

A text column is a `Text`, what ``vectorized_reference.text_buffers`` returns: Arrow's int32 offsets
(rows + 1), the UTF-8 data bytes, and a mask of the rows that are not null. The functions on one
value (`_hash_and_plain_at`, `_amount_at`) are the rules; the loops apply them to columns.
"""

from __future__ import annotations

import atexit
import functools
import gc
import threading
from collections.abc import Callable
from typing import Any, Literal, TypeVar, cast

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
Bools = npt.NDArray[np.bool_]
Bytes = npt.NDArray[np.uint8]
Text = tuple[I32, Bytes, Bools]

# DuckDB's hash() (duckdb src/common/types/hash.cpp, vector_hash.cpp), so that a fingerprint
# computed here equals DuckDB's `hash(...)` of the same values: the DuckDB check computes the
# mart's side in SQL (docs/decisions/0005-batch-verification.md). Texts hash their UTF-8 bytes.
NULL_HASH = np.uint64(0xBF58476D1CE4E5B9)
MURMUR_MULTIPLIER = np.uint64(0xD6E8FEB86659FD93)
TEXT_SEED = np.uint64(0xE17A1465)
LENGTH_MULTIPLIER = np.uint64(0xC6A4A7935BD1E995)
WORD_BYTES = 8
# The top bit of each byte of a word: set only in the bytes of multi-byte UTF-8 characters.
HIGH_BITS = np.uint64(0x8080808080808080)
# Money in integer cents; null is a value no decimal(18, 2) can hold.
NULL_CENTS = np.int64(-(2**63))
# Printable ASCII without the space: a plain text starts and ends with one of these.
FIRST_VISIBLE, LAST_VISIBLE = 0x21, 0x7E
# The amounts vouched for: [0-9]{1,16}(\.[0-9]{1,2})?, below decimal(18, 2)'s limit and exact in cents.
PLAIN_MAX_WHOLE_DIGITS = 16
PLAIN_MAX_DECIMALS = 2
ZERO, NINE, POINT = ord("0"), ord("9"), ord(".")

# Numba leaves hundreds of thousands of objects alive, which Python's last collection at exit walks
# one by one (0.2 s a process); frozen, that collection skips them.
atexit.register(gc.freeze)

F = TypeVar("F", bound=Callable[..., Any])
A = TypeVar("A", bound=np.ndarray)


def _compiled(function: F) -> F:
    """Compiled on first use and cached beside this file: a process (or a Spark worker) that finds the
    cache loads the machine code instead of compiling it again."""
    return _deferred(function, inline="never")


def _inlined(function: F) -> F:
    """A rule on one value, compiled into each loop that calls it (a call per row would cost more than the rule)."""
    return _deferred(function, inline="always")


# Numba is imported at the first call of any function here, not with this module: importing it and
# loading the cached machine code takes 0.4 s, which a check spends while its engine already reads.
_INLINE: dict[str, Literal["never", "always"]] = {}
_LOAD = threading.Lock()
_LOADED = threading.Event()


def _deferred(function: F, inline: Literal["never", "always"]) -> F:
    """The function, jitted with every other one of this module at the first call of any."""
    name = function.__name__
    _INLINE[name] = inline

    @functools.wraps(function)
    def first_call(*args: Any, **kwargs: Any) -> Any:
        if not _LOADED.is_set():
            _load()
        return globals()[name](*args, **kwargs)

    return cast(F, first_call)


def _load() -> None:
    """Import numba and put each function's dispatcher in its place in this module, where the
    loops find the rules they inline when they compile."""
    with _LOAD:
        if _LOADED.is_set():
            return
        import numba

        module = globals()
        for name, inline in _INLINE.items():
            module[name] = numba.njit(nogil=True, cache=True, inline=inline)(module[name].__wrapped__)
        _LOADED.set()


def read_only(array: A) -> A:
    """A read-only view of the array. Numba compiles a function once per kind of array, writable or
    not: the loops take their data and key arrays read-only (as engines' buffers are), one kind each."""
    view = array.view()
    view.flags.writeable = False
    return view


# ---------- one value


@_inlined
def murmur64(value: np.uint64) -> np.uint64:
    """DuckDB's hash of a 64-bit integer (and, zero-extended, of a narrower one): each input bit moves all others."""
    value ^= value >> np.uint64(32)
    value *= MURMUR_MULTIPLIER
    value ^= value >> np.uint64(32)
    value *= MURMUR_MULTIPLIER
    return value ^ (value >> np.uint64(32))


@_inlined
def combine_hashes(left: np.uint64, right: np.uint64) -> np.uint64:
    """DuckDB's hash of several values: each next value's hash folded into the hash so far."""
    left ^= left >> np.uint64(32)
    left *= MURMUR_MULTIPLIER
    return left ^ right


@_inlined
def _word_at(data: Bytes, position: int, stop: int) -> np.uint64:
    """The little-endian 8-byte word at data[position:], the bytes from `stop` on as zeros."""
    if position + WORD_BYTES <= data.size:
        # Eight fixed loads at an unsigned index (no check for negative ones), which LLVM merges into one.
        at = np.uint64(position)
        word = (
            np.uint64(data[at])
            | np.uint64(data[at + np.uint64(1)]) << np.uint64(8)
            | np.uint64(data[at + np.uint64(2)]) << np.uint64(16)
            | np.uint64(data[at + np.uint64(3)]) << np.uint64(24)
            | np.uint64(data[at + np.uint64(4)]) << np.uint64(32)
            | np.uint64(data[at + np.uint64(5)]) << np.uint64(40)
            | np.uint64(data[at + np.uint64(6)]) << np.uint64(48)
            | np.uint64(data[at + np.uint64(7)]) << np.uint64(56)
        )
        if stop - position < WORD_BYTES:
            word &= (np.uint64(1) << np.uint64(8 * (stop - position))) - np.uint64(1)
        return word
    word = np.uint64(0)
    for byte in range(min(WORD_BYTES, stop - position)):
        word |= np.uint64(data[position + byte]) << np.uint64(8 * byte)
    return word


@_inlined
def _hash_at(data: Bytes, start: int, stop: int) -> np.uint64:
    """DuckDB's hash of the UTF-8 bytes data[start:stop].

    h = TEXT_SEED ^ (length * LENGTH_MULTIPLIER), then for each 8-byte little-endian word of the
    text (the last one zero-padded): h = (h ^ word) * MURMUR_MULTIPLIER; then murmur64(h).
    """
    return _hash_and_plain_at(data, start, stop)[0]


@_inlined
def _hash_and_plain_at(data: Bytes, start: int, stop: int) -> tuple[np.uint64, bool]:
    """`_hash_at`, and whether the text is plain: every cleaning rule leaves it as it is (not empty,
    ASCII, a visible character at each end). The ASCII test reads the words the hash loads."""
    value = TEXT_SEED ^ (np.uint64(stop - start) * LENGTH_MULTIPLIER)
    bits = np.uint64(0)
    for position in range(start, stop, WORD_BYTES):
        word = _word_at(data, position, stop)
        bits |= word
        value = (value ^ word) * MURMUR_MULTIPLIER
    plain = (
        stop > start
        and FIRST_VISIBLE <= data[np.uint64(start)] <= LAST_VISIBLE
        and FIRST_VISIBLE <= data[np.uint64(stop - 1)] <= LAST_VISIBLE
        and (bits & HIGH_BITS) == 0
    )
    return murmur64(value), plain


@_inlined
def _amount_at(data: Bytes, start: int, stop: int) -> tuple[bool, np.int64]:
    """Whether the text is a plain amount, [0-9]{1,16}(\\.[0-9]{1,2})?, and its value in integer cents (0 if not)."""
    whole_digits, decimals, points, units = 0, 0, 0, np.int64(0)
    for position in range(np.uint64(start), np.uint64(stop)):
        digit = np.int64(data[position]) - ZERO
        if 0 <= digit <= 9:
            units = units * 10 + digit
            decimals += points
            whole_digits += 1 - points
        elif data[position] == POINT and points == 0:
            points = 1
        else:
            return False, np.int64(0)
    if not 1 <= whole_digits <= PLAIN_MAX_WHOLE_DIGITS or (points and not 1 <= decimals <= PLAIN_MAX_DECIMALS):
        return False, np.int64(0)
    for _ in range(PLAIN_MAX_DECIMALS - decimals):
        units *= 10
    return True, units


@_inlined
def _same_at(data: Bytes, start: int, other: int, length: int) -> bool:
    """Whether data[start:start + length] and data[other:other + length] hold the same bytes."""
    differ = np.uint8(0)
    for offset in range(np.uint64(length)):
        differ |= data[np.uint64(start) + offset] ^ data[np.uint64(other) + offset]
    return bool(differ == 0)


# ---------- columns


@_compiled
def hash_texts(offsets: I32, data: Bytes, present: Bools) -> U64:
    """DuckDB's hash of each text's UTF-8 bytes; NULL_HASH where not present."""
    rows = offsets.size - 1
    hashes = np.empty(rows, np.uint64)
    for row in range(rows):
        hashes[row] = _hash_at(data, offsets[row], offsets[row + 1]) if present[row] else NULL_HASH
    return hashes


@_compiled
def plain_source_rows(
    client_id: Text, client_name: Text, aum: Text, investments: Text, updated_at: Text
) -> tuple[Bools, U64, U64, I64, I64]:
    """One pass over a batch's raw texts: which rows are plain, with their key and name hashes and amounts.

    Plain: a plain id; a blank (null or empty) or plain name; a plain aum; blank or plain
    investments; a blank updated_at. Returns that mask, DuckDB's hash of each id and of each name
    as the mart holds it (a blank name is null), and aum and investments in cents (NULL_CENTS
    for blank investments; 0 where not plain).
    """
    id_offsets, id_data, id_present = client_id
    name_offsets, name_data, name_present = client_name
    aum_offsets, aum_data, aum_present = aum
    investments_offsets, investments_data, investments_present = investments
    updated_offsets, _, updated_present = updated_at
    rows = id_offsets.size - 1
    plain = np.empty(rows, np.bool_)
    key_hashes = np.empty(rows, np.uint64)
    name_hashes = np.empty(rows, np.uint64)
    aum_cents = np.empty(rows, np.int64)
    investments_cents = np.empty(rows, np.int64)
    for row in range(rows):
        start, stop = id_offsets[row], id_offsets[row + 1]
        key_hashes[row], ok = _hash_and_plain_at(id_data, start, stop) if id_present[row] else (NULL_HASH, False)

        start, stop = name_offsets[row], name_offsets[row + 1]
        if name_present[row] and stop > start:
            name_hashes[row], name_plain = _hash_and_plain_at(name_data, start, stop)
            ok = ok and name_plain
        else:
            name_hashes[row] = NULL_HASH

        ok = ok and not (updated_present[row] and updated_offsets[row + 1] > updated_offsets[row])

        amount_ok, aum_cents[row] = _amount_at(aum_data, aum_offsets[row], aum_offsets[row + 1])
        ok = ok and aum_present[row] and amount_ok

        start, stop = investments_offsets[row], investments_offsets[row + 1]
        if investments_present[row] and stop > start:
            amount_ok, investments_cents[row] = _amount_at(investments_data, start, stop)
            ok = ok and amount_ok
        else:
            investments_cents[row] = NULL_CENTS
        plain[row] = ok
    return plain, key_hashes, name_hashes, aum_cents, investments_cents


@_compiled
def spelling_codes(offsets: I32, data: Bytes, present: Bools, most: int) -> tuple[I64, I64, bool]:
    """Each row's index among the column's distinct texts (byte for byte), each distinct text's
    first row, and whether it coded them all.

    Null rows get the index one past the last distinct text. A column with more than `most`
    distinct texts is not coded (False).
    """
    rows = offsets.size - 1
    codes = np.empty(rows, np.int64)
    firsts = np.empty(most, np.int64)
    distinct = 0
    for row in range(rows):
        if not present[row]:
            codes[row] = -1
            continue
        start, length = offsets[row], offsets[row + 1] - offsets[row]
        code = -1
        for candidate in range(distinct):
            first = firsts[candidate]
            if offsets[first + 1] - offsets[first] == length and _same_at(data, start, offsets[first], length):
                code = candidate
                break
        if code < 0:
            if distinct == most:
                return codes, firsts[:0], False
            firsts[distinct] = row
            code = distinct
            distinct += 1
        codes[row] = code
    for row in range(rows):
        if codes[row] < 0:
            codes[row] = distinct
    return codes, firsts[:distinct], True


# ---------- the scoring ladder


@_compiled
def scored_rows(
    aum: I64, investments: I64, is_sfo: tuple[I64, I64], investor_type: tuple[I64, I64], ladder: tuple[I64, U64, Bools]
) -> tuple[Bools, U64, I64, I64]:
    """The scoring ladder of each row, in one pass: its packed codes, QP amount tested and QP threshold.

    Money in integer cents (investments NULL_CENTS when unknown). `is_sfo` and `investor_type` are
    (codes, values): a row's flag is values[code] (1 true, 0 false), its type an index into
    raw_clients.INVESTOR_TYPES; a value below 0 is one the scalar reference must parse, and the row
    is not `known`. `ladder` = (thresholds, packs, entities), from ``vectorized_reference``:
    the tier 1 and 2 minimum AUM and the person and entity QP minimums in cents; every packed row
    of codes by (tier reason, flag, type, qualified); whether a (flag, type) tests as an entity.
    """
    flag_codes, flag_values = is_sfo
    type_codes, type_values = investor_type
    thresholds, packs, entities = ladder
    tier_1, tier_2, person, entity = thresholds[0], thresholds[1], thresholds[2], thresholds[3]
    types = entities.size // 2
    rows = aum.size
    known = np.empty(rows, np.bool_)
    packed = np.empty(rows, np.uint64)
    amount_tested = np.empty(rows, np.int64)
    threshold = np.empty(rows, np.int64)
    for row in range(rows):
        flag, kind = flag_values[flag_codes[row]], type_values[type_codes[row]]
        known[row] = flag >= 0 and kind >= 0
        sfo = flag == 1
        amount = aum[row]
        reason = 0 if sfo else 1 if amount >= tier_1 else 2 if amount >= tier_2 else 3
        sfo_and_type = sfo * types + max(kind, 0)
        tested = investments[row] if investments[row] != NULL_CENTS and investments[row] > amount else amount
        minimum = entity if entities[sfo_and_type] else person
        amount_tested[row], threshold[row] = tested, minimum
        packed[row] = packs[(reason * 2 * types + sfo_and_type) * 2 + (tested >= minimum)]
    return known, packed, amount_tested, threshold


# ---------- fingerprints and buckets


@_compiled
def row_fingerprints(
    key_hashes: U64, name_hashes: U64, money: tuple[I64, I64, I64, I64], packed: U64, parts: tuple[I64, U64]
) -> U64:
    """Each row's fingerprint (``fingerprints``' spec): its DuckDB ``hash(<compared columns>)`` keyed by
    its key's hash, from the hashes of its key and name, its money in cents (`money`: the cents of
    each money column, read-only) and its packed codes.

    `parts` = (layout, code_hashes). `layout` names the compared columns in order, as (kind, index)
    pairs: kind 0 the name, 1 the money column `index`, 2 the packed column `index`, whose code
    indexes that row of `code_hashes`.
    Money hashes as DuckDB's decimal(18, 2), which is its int64 of cents; null cents as null.
    """
    layout, code_hashes = parts
    # Column by column: each row's chain of combines is sequential, but rows are independent, so a
    # loop over rows keeps the multiplier busy (row by row it waited on each multiply).
    hashes = np.empty_like(key_hashes)
    for column in range(layout.shape[0]):
        kind, index, first = layout[column, 0], layout[column, 1], column == 0
        if kind == 0:
            for row in range(hashes.size):
                hashes[row] = _folded(hashes[row], name_hashes[row], first)
        elif kind == 1:
            amounts = money[index]
            for row in range(hashes.size):
                cents = amounts[row]
                part = NULL_HASH if cents == NULL_CENTS else murmur64(np.uint64(cents))
                hashes[row] = _folded(hashes[row], part, first)
        else:
            shift = np.uint64(4 * index)
            for row in range(hashes.size):
                part = code_hashes[index, (packed[row] >> shift) & np.uint64(15)]
                hashes[row] = _folded(hashes[row], part, first)
    return keyed_fingerprints(key_hashes, hashes)


@_inlined
def _folded(so_far: np.uint64, part: np.uint64, first: bool) -> np.uint64:
    """DuckDB's hash of several values, one value further: the first value's hash is its own."""
    return part if first else combine_hashes(so_far, part)


@_compiled
def keyed_fingerprints(key_hashes: U64, row_hashes: U64) -> U64:
    """Each row's fingerprint from its key's hash and the hash of its compared columns (read-only arrays)."""
    fingerprints = np.empty_like(row_hashes)
    for row in range(row_hashes.size):
        fingerprints[row] = combine_hashes(key_hashes[row], row_hashes[row])
    return fingerprints


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
def decimal_cents(words: npt.NDArray[np.int64], present: Bools) -> tuple[I64, bool]:
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
            cents[row] = NULL_CENTS
    return cents, fits
