"""The compiled loops of the check against plain-Python statements of what each computes."""

from __future__ import annotations

import re
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.crm.fingerprints import BUCKET_BITS, Buckets, bucket_of, cents, hash_text, mart_rows
from services.crm.kernels import LENGTH_WEIGHT, NULL_HASH, TEXT_SEED, WORD_BYTES, WORD_WEIGHT
from services.crm.vectorized_reference import plain_cents, plain_text

from .conftest import examples

MASK = (1 << 64) - 1
PLAIN_AMOUNT = re.compile(r"[0-9]{1,16}(\.[0-9]{1,2})?")
# Text as exports carry it: ASCII, padding of every kind, accents, CJK, emoji, control characters.
texts = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.text(alphabet="0123456789. -+eE,$", max_size=22),
    st.from_regex(PLAIN_AMOUNT, fullmatch=True),
)


def spec_mix(value: int) -> int:
    value ^= value >> 30
    value = (value * 0xBF58476D1CE4E5B9) & MASK
    value ^= value >> 27
    value = (value * 0x94D049BB133111EB) & MASK
    return value ^ (value >> 31)


def spec_hash(text: str | None) -> int:
    """kernels.hash_texts, one text at a time with Python integers."""
    if text is None:
        return int(NULL_HASH)
    data = text.encode()
    value = spec_mix((len(data) * int(LENGTH_WEIGHT) + int(TEXT_SEED)) & MASK)
    for start in range(0, len(data), WORD_BYTES):
        word = int.from_bytes(data[start : start + WORD_BYTES], "little")
        value = spec_mix((value + word * int(WORD_WEIGHT)) & MASK)
    return value


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(texts, max_size=30), st.integers(min_value=0, max_value=5))
def test_text_hashes_are_the_spec_on_any_text_and_any_slice(values: list[str | None], skip: int) -> None:
    # A slice's buffers start mid-array: the hash must read its own offsets, not the parent's.
    array = pa.array(["padding"] * skip + values, pa.string()).slice(skip)
    assert hash_text(array).tolist() == [spec_hash(value) for value in values]


def test_null_empty_and_zero_padded_texts_hash_apart() -> None:
    hashes = hash_text(pa.array([None, "", "\x00", "a", "a\x00", "a" * 8, "a" * 8 + "\x00"], pa.string()))
    assert len(set(hashes.tolist())) == len(hashes)


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(texts, max_size=30))
def test_plain_text_is_non_empty_ascii_with_a_visible_character_at_each_end(values: list[str | None]) -> None:
    visible = {chr(code) for code in range(0x21, 0x7F)}
    expected = [
        value is not None and value != "" and value.isascii() and value[0] in visible and value[-1] in visible
        for value in values
    ]
    assert plain_text(pa.array(values, pa.string())).tolist() == expected


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(texts, max_size=30))
def test_plain_amounts_are_the_regex_and_their_exact_cents(values: list[str | None]) -> None:
    plain, amounts = plain_cents(pa.array(values, pa.string()))
    for value, is_plain, amount in zip(values, plain.tolist(), amounts.tolist(), strict=True):
        if value is not None and value.isascii() and PLAIN_AMOUNT.fullmatch(value):
            assert (is_plain, amount) == (True, int(Decimal(value) * 100)), value
        else:
            assert not is_plain, value


@settings(max_examples=examples(100), deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, MASK), st.integers(0, MASK), st.booleans()),
        max_size=200,
    )
)
def test_buckets_sum_the_selected_fingerprints_modulo_2_to_the_64(rows: list[tuple[int, int, bool]]) -> None:
    keys = np.array([key for key, _, _ in rows], np.uint64)
    fingerprints = np.array([value for _, value, _ in rows], np.uint64)
    selected = np.array([chosen for _, _, chosen in rows], np.bool_)
    buckets = Buckets()
    buckets.add(keys, fingerprints, selected)
    sums: dict[int, int] = {}
    counts: dict[int, int] = {}
    for key, value, chosen in rows:
        if chosen:
            bucket = key >> (64 - BUCKET_BITS)
            sums[bucket] = (sums.get(bucket, 0) + value) & MASK
            counts[bucket] = counts.get(bucket, 0) + 1
    touched = np.flatnonzero(buckets.counts)
    assert {int(bucket): int(buckets.sums[bucket]) for bucket in touched} == sums
    assert {int(bucket): int(buckets.counts[bucket]) for bucket in touched} == counts
    assert set(bucket_of(keys[selected]).tolist()) == set(counts)


def test_decimal_money_is_read_as_its_exact_cents() -> None:
    values = [Decimal("12.34"), None, Decimal("-0.05"), Decimal("9999999999999999.99"), Decimal("-9999999999999999.99")]
    money = pa.array(values, pa.decimal128(18, 2))
    assert cents(money.slice(1)).tolist() == [-(2**63), -5, 999999999999999999, -999999999999999999]
    rows = mart_rows(pa.record_batch(dict.fromkeys(("aum", "investments", "qp_amount_tested", "qp_threshold"), money)))
    assert [row["aum"] for row in rows] == values


def test_money_that_no_decimal_18_2_holds_is_refused_not_wrapped() -> None:
    with pytest.raises(ValueError, match="64-bit cents"):
        cents(pa.array([Decimal("100000000000000000000.00")], pa.decimal128(38, 2)))
    with pytest.raises(TypeError, match="scale 2"):
        cents(pa.array([Decimal("1.005")], pa.decimal128(18, 3)))
