"""Arrow arrays to and from NumPy masks and Python values through their buffers, not `pa.array`.

`pa.array` first asks pandas whether its input is a pandas array, and `to_numpy` sets up
pandas' conversion options: either imports pandas, 0.2 s of a process's start
wherever pandas is installed (the test and benchmark environments have it for datacompy). The
check converts the arrays it needs here instead, and `test_kernels.py` checks that a DuckDB check
never imports pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import cast

import numpy as np
import numpy.typing as npt
import pyarrow as pa

Bools = npt.NDArray[np.bool_]
# decimal128's 16 bytes: two little-endian 64-bit words, the low one first.
_WORDS = 2
_MOST_TEXT_BYTES = 2**31 - 1


def bools(mask: Bools) -> pa.BooleanArray:
    """A boolean array of the mask, no nulls."""
    return pa.Array.from_buffers(pa.bool_(), mask.size, [None, _bits(mask)])


def integers(values: npt.NDArray[np.integer], present: Bools | None = None) -> pa.Array:
    """An integer array of the values' own type, null where not `present`."""
    data = np.ascontiguousarray(values)
    return pa.Array.from_buffers(pa.from_numpy_dtype(data.dtype), data.size, [_validity(present), pa.py_buffer(data)])


def texts(values: Sequence[str | None]) -> pa.StringArray:
    """A utf8 array of the texts, null for None."""
    encoded = [b"" if value is None else value.encode("utf-8") for value in values]
    offsets = np.zeros(len(encoded) + 1, np.int64)
    np.cumsum([len(value) for value in encoded], out=offsets[1:])
    if offsets[-1] > _MOST_TEXT_BYTES:
        raise ValueError(f"{offsets[-1]} bytes of text do not fit one utf8 array")
    present = np.array([value is not None for value in values], np.bool_)
    buffers = [_validity(present), pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.string(), len(encoded), buffers)


def label_type(label: object) -> pa.DataType:
    """The Arrow type a mart column of such labels has: boolean, integer (32-bit) or text."""
    return pa.bool_() if isinstance(label, bool) else pa.int32() if isinstance(label, int) else pa.string()


def array_of(values: Sequence[object], data_type: pa.DataType) -> pa.Array:
    """`pa.array(values, data_type)` for the types a mart row holds: text, boolean, 32- or 64-bit
    integers, and decimals (Decimal values of the type's scale)."""
    present = np.array([value is not None for value in values], np.bool_)
    if pa.types.is_string(data_type):
        if not all(value is None or isinstance(value, str) for value in values):
            raise TypeError("a utf8 array holds texts only")
        return texts(cast(Sequence[str | None], values))
    if pa.types.is_boolean(data_type):
        mask = np.array([bool(value) for value in values], np.bool_)
        return pa.Array.from_buffers(data_type, mask.size, [_validity(present), _bits(mask)])
    if pa.types.is_integer(data_type):
        kind = "u" if pa.types.is_unsigned_integer(data_type) else "i"
        numbers = np.array([0 if value is None else value for value in values], f"{kind}{data_type.bit_width // 8}")
        return integers(numbers, present)
    if pa.types.is_decimal128(data_type):
        # Each value's unscaled integer, sign-extended to 128 bits (any decimal(18, s) fits the low word).
        words = np.zeros((len(values), _WORDS), np.int64)
        for row, value in enumerate(values):
            if value is None:
                continue
            unscaled = Decimal(str(value)).scaleb(data_type.scale)
            if unscaled != unscaled.to_integral_value() or not abs(unscaled) < min(10**data_type.precision, 2**63):
                raise ValueError(f"{value} is not a {data_type}")
            words[row] = int(unscaled), -1 if unscaled < 0 else 0
        return pa.Array.from_buffers(data_type, len(values), [_validity(present), pa.py_buffer(words)])
    raise TypeError(f"no arrays of {data_type} here")


def numpy_integers(values: pa.Array | pa.ChunkedArray, null: int | None = None) -> npt.NDArray[np.integer]:
    """An integer array as NumPy's, of the same type: a read-only view of its buffer when it has no
    nulls, else a copy with `null` where they were."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not pa.types.is_integer(values.type):
        raise TypeError(f"not an integer array: {values.type}")
    kind = "u" if pa.types.is_unsigned_integer(values.type) else "i"
    data = np.frombuffer(values.buffers()[1], f"<{kind}{values.type.bit_width // 8}")
    data = data[values.offset : values.offset + len(values)]
    if not values.null_count:
        # Never a writable alias of the engine's memory (np.frombuffer of a mutable buffer is writable).
        data.flags.writeable = False
        return data
    if null is None:
        raise ValueError(f"{values.null_count} nulls and no value given for them")
    filled = data.copy()
    filled[~present(values)] = null
    return filled


def numpy_bools(values: pa.Array | pa.ChunkedArray) -> Bools:
    """A boolean array as a NumPy mask (null as False)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not pa.types.is_boolean(values.type):
        raise TypeError(f"not a boolean array: {values.type}")
    mask = _unpacked(values.buffers()[1], values.offset, len(values))
    return mask & present(values) if values.null_count else mask


def present(values: pa.Array | pa.ChunkedArray) -> Bools:
    """Which values are not null, as a NumPy mask."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.null_count == 0:
        return np.ones(len(values), np.bool_)
    if values.buffers()[0] is None:  # nulls without a bitmap: the null type
        return np.zeros(len(values), np.bool_)
    return _unpacked(values.buffers()[0], values.offset, len(values))


def _unpacked(bitmap: pa.Buffer, offset: int, length: int) -> Bools:
    bits = np.unpackbits(np.frombuffer(bitmap, np.uint8), count=offset + length, bitorder="little")
    return bits[offset:].astype(np.bool_)


def _bits(mask: Bools) -> pa.Buffer:
    return pa.py_buffer(np.packbits(mask, bitorder="little"))


def _validity(present: Bools | None) -> pa.Buffer | None:
    return None if present is None or present.all() else _bits(present)
