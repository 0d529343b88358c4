"""The check's Arrow conversions against pyarrow's own (`pa.array`, `to_numpy`), on any values and slices."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.crm.arrow_arrays import array_of, bools, integers, numpy_bools, numpy_integers, present, texts

from .conftest import examples

MONEY = pa.decimal128(18, 2)
money = st.decimals(min_value=Decimal("-9999999999999999.99"), max_value=Decimal("9999999999999999.99"), places=2)
slices = st.integers(min_value=0, max_value=9)


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=20))))
def test_texts_are_pyarrows_utf8_array(values: list[str | None]) -> None:
    built = texts(values)
    built.validate(full=True)
    assert built.equals(pa.array(values, pa.string()))


@settings(max_examples=examples(200), deadline=None)
@given(
    st.sampled_from([pa.string(), pa.bool_(), pa.int32(), pa.int64(), pa.uint64(), MONEY]).flatmap(
        lambda data_type: st.tuples(
            st.just(data_type),
            st.lists(
                st.one_of(
                    st.none(),
                    {
                        pa.string(): st.text(max_size=12),
                        pa.bool_(): st.booleans(),
                        pa.int32(): st.integers(-(2**31), 2**31 - 1),
                        pa.int64(): st.integers(-(2**63), 2**63 - 1),
                        pa.uint64(): st.integers(0, 2**64 - 1),
                        MONEY: money,
                    }[data_type],
                )
            ),
        )
    )
)
def test_arrays_of_mart_values_are_pyarrows(drawn: tuple[pa.DataType, list[object]]) -> None:
    data_type, values = drawn
    built = array_of(values, data_type)
    built.validate(full=True)
    assert built.equals(pa.array(values, data_type))


def test_values_that_no_array_of_the_type_holds_are_refused() -> None:
    for beyond in (Decimal("0.001"), Decimal("10000000000000000.00"), Decimal("-10000000000000000.00")):
        with pytest.raises(ValueError, match="not a decimal128"):
            array_of([beyond], MONEY)
    with pytest.raises(TypeError, match="texts only"):
        array_of([True], pa.string())


def test_integers_read_without_nulls_are_a_read_only_view() -> None:
    """Never a writable alias of an engine's memory: pyarrow's own buffers are mutable."""
    values = pa.array([1, 2, 3], pa.int64())
    read = numpy_integers(values)
    assert not read.flags.writeable
    assert np.shares_memory(read, np.frombuffer(values.buffers()[1], np.int64))


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.booleans()), st.lists(st.one_of(st.none(), st.booleans())), slices)
def test_masks_go_to_arrow_and_back(mask: list[bool], nullable: list[bool | None], skip: int) -> None:
    assert bools(np.array(mask, np.bool_)).equals(pa.array(mask, pa.bool_()))
    # A slice starts mid-byte of its bitmaps.
    sliced = pa.array([True] * skip + nullable, pa.bool_()).slice(skip)
    assert numpy_bools(sliced).tolist() == [bool(value) for value in nullable]
    assert present(sliced).tolist() == [value is not None for value in nullable]


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))), slices)
def test_integers_go_to_arrow_and_back(values: list[int | None], skip: int) -> None:
    sliced = pa.array([0] * skip + values, pa.int64()).slice(skip)
    filled = [-1 if value is None else value for value in values]
    assert numpy_integers(sliced, null=-1).tolist() == filled
    assert integers(numpy_integers(sliced, null=-1)).equals(pa.array(filled, pa.int64()))
    if None in values:
        with pytest.raises(ValueError, match="nulls"):
            numpy_integers(sliced)
