"""The compiled loops of the check against plain-Python statements of what each computes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.crm.client_priority import PriorityScorer
from services.crm.duckdb_reader import hashes_agree
from services.crm.fingerprints import BUCKET_BITS, Buckets, bucket_of, cents, hash_text, mart_fingerprints, mart_rows
from services.crm.kernels import NULL_CENTS, plain_source_rows, spelling_codes
from services.crm.queries import fingerprint_select
from services.crm.vectorized_reference import MONEY_COLUMNS, Labels, reference_codes, text_buffers
from services.crm.verification_report import COMPARED_COLUMNS

from .conftest import examples
from .engines import DuckDBMart

MASK = (1 << 64) - 1
PLAIN_AMOUNT = re.compile(r"[0-9]{1,16}(\.[0-9]{1,2})?")
# Text as exports carry it: ASCII, padding of every kind, accents, CJK, emoji, control characters.
texts = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.text(alphabet="0123456789. -+eE,$", max_size=22),
    st.from_regex(PLAIN_AMOUNT, fullmatch=True),
)


def combined(so_far: int, value_hash: int) -> int:
    """DuckDB's hash of several values, one value further (CombineHashScalar in duckdb's hash.hpp)."""
    so_far ^= so_far >> 32
    return ((so_far * 0xD6E8FEB86659FD93) & MASK) ^ value_hash


def duckdb_hashes(values: Sequence[str | None]) -> list[int]:
    """DuckDB's own hash() of each text: the spec the compiled hash follows."""
    connection = duckdb.connect()
    connection.register("probe", pa.table({"text": pa.array(values, pa.string())}))
    return [row[0] for row in connection.sql("select hash(text) from probe").fetchall()]


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(texts, max_size=30), st.integers(min_value=0, max_value=5))
def test_text_hashes_are_duckdbs_on_any_text_and_any_slice(values: list[str | None], skip: int) -> None:
    # A slice's buffers start mid-array: the hash must read its own offsets, not the parent's.
    array = pa.array(["padding"] * skip + values, pa.string()).slice(skip)
    assert hash_text(array).tolist() == duckdb_hashes(values)


def test_texts_hash_as_duckdb_at_every_length_around_its_words_and_at_a_buffers_end() -> None:
    # The last word of a buffer is read byte by byte, every other word in one load.
    values = ["ab\u00e9" * length for length in range(12)] + ["x" * length for length in range(30)]
    assert hash_text(pa.array(values, pa.string())).tolist() == duckdb_hashes(values)
    for value in values:
        assert hash_text(pa.array([value], pa.string())).tolist() == duckdb_hashes([value])


def test_null_empty_and_zero_padded_texts_hash_apart() -> None:
    hashes = hash_text(pa.array([None, "", "\x00", "a", "a\x00", "a" * 8, "a" * 8 + "\x00"], pa.string()))
    assert len(set(hashes.tolist())) == len(hashes)


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


def spec_blank(value: str | None) -> bool:
    return value is None or value == ""


def spec_plain(value: str | None) -> bool:
    """Plain text: non-empty ASCII with a visible character at each end."""
    visible = {chr(code) for code in range(0x21, 0x7F)}
    return value is not None and value != "" and value.isascii() and value[0] in visible and value[-1] in visible


def spec_amount(value: str | None) -> tuple[bool, int]:
    """A plain amount and its exact cents: the regex, nothing to round (0 cents when not plain)."""
    if value is not None and value.isascii() and PLAIN_AMOUNT.fullmatch(value):
        return True, int(Decimal(value) * 100)
    return False, 0


# Rows as exports carry them: each cell well formed three times in four, any text otherwise, so
# that rows plain throughout and rows with one irregular cell both come up often.
plain_amounts = st.from_regex(PLAIN_AMOUNT, fullmatch=True)
blanks = st.one_of(st.none(), st.just(""))


def mostly(well_formed: st.SearchStrategy[str | None]) -> st.SearchStrategy[str | None]:
    return st.one_of(well_formed, well_formed, well_formed, texts)


source_rows = st.tuples(
    mostly(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,15}", fullmatch=True)),
    mostly(st.one_of(blanks, st.from_regex(r"[A-Za-z]([A-Za-z .'&-]{0,20}[a-z])?", fullmatch=True))),
    mostly(plain_amounts),
    mostly(st.one_of(blanks, plain_amounts)),
    mostly(blanks),
)


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(source_rows, max_size=30), st.integers(min_value=0, max_value=3))
def test_the_source_rows_pass_is_the_plain_text_rules_and_duckdbs_hashes(
    rows: list[tuple[str | None, ...]], skip: int
) -> None:
    # Sliced columns: each buffer starts mid-array, as in a batch cut from a bigger one.
    columns = [pa.array(["C1"] * skip + [row[index] for row in rows], pa.string()).slice(skip) for index in range(5)]
    plain, key_hashes, name_hashes, aum_cents, investments_cents = plain_source_rows(
        *(text_buffers(column) for column in columns)
    )
    expected_plain, expected_aum, expected_investments = [], [], []
    for client_id, name, aum, investments, updated_at in rows:
        aum_plain, aum_amount = spec_amount(aum)
        investments_plain, investments_amount = spec_amount(investments)
        expected_plain.append(
            spec_plain(client_id)
            and (spec_blank(name) or spec_plain(name))
            and spec_blank(updated_at)
            and aum_plain
            and (spec_blank(investments) or investments_plain)
        )
        expected_aum.append(aum_amount)
        expected_investments.append(int(NULL_CENTS) if spec_blank(investments) else investments_amount)
    assert plain.tolist() == expected_plain
    assert aum_cents.tolist() == expected_aum
    assert investments_cents.tolist() == expected_investments
    assert key_hashes.tolist() == duckdb_hashes([row[0] for row in rows])
    # The mart holds a blank name as null.
    assert name_hashes.tolist() == duckdb_hashes([None if spec_blank(row[1]) else row[1] for row in rows])


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.sampled_from([None, "", "true", "True", " yes", "false", "fals", "falsee", "ü", "1"]), max_size=60))
def test_spellings_are_coded_by_first_appearance_byte_for_byte(values: list[str | None]) -> None:
    array = pa.array(values, pa.string())
    codes, firsts, coded = spelling_codes(*text_buffers(array), 64)
    distinct = list(dict.fromkeys(value for value in values if value is not None))
    assert coded
    assert [values[first] for first in firsts.tolist()] == distinct
    assert codes.tolist() == [len(distinct) if value is None else distinct.index(value) for value in values]
    if len(distinct) > 1:
        assert not spelling_codes(*text_buffers(array), len(distinct) - 1)[2]


LABELS = Labels.for_policy(PriorityScorer().policy)
money = st.one_of(
    st.none(),
    st.decimals(min_value=Decimal("-9999999999999999.99"), max_value=Decimal("9999999999999999.99"), places=2),
)


@st.composite
def mart_batches(draw: st.DrawFn) -> tuple[pa.RecordBatch, list[bool]]:
    """Mart rows as DuckDB hands them out: any text, any money; each categorical column a label or
    null, except in the rows drawn `wild`, where it may hold any other value too."""
    rows = draw(st.integers(min_value=0, max_value=20))
    wild = draw(st.lists(st.booleans(), min_size=rows, max_size=rows))
    columns: dict[str, pa.Array] = {
        "client_id": pa.array(draw(st.lists(st.text(max_size=20), min_size=rows, max_size=rows)), pa.string()),
        "client_name": pa.array(draw(st.lists(texts, min_size=rows, max_size=rows)), pa.string()),
    }
    for name in MONEY_COLUMNS:
        columns[name] = pa.array(draw(st.lists(money, min_size=rows, max_size=rows)), pa.decimal128(18, 2))
    for name, labels in LABELS.values().items():
        labelled = st.one_of(st.none(), st.sampled_from(labels))
        other: st.SearchStrategy[object]
        if isinstance(labels[0], bool):
            other, data_type = st.booleans(), pa.bool_()
        elif isinstance(labels[0], int):
            other, data_type = st.integers(-5, 20), pa.int32()
        else:
            other, data_type = st.text(max_size=12), pa.string()
        values = [draw(st.one_of(labelled, other) if row_wild else labelled) for row_wild in wild]
        columns[name] = pa.array(values, data_type)
    batch = pa.record_batch(
        [columns[name] for name in ("client_id", *COMPARED_COLUMNS)], names=["client_id", *COMPARED_COLUMNS]
    )
    return batch, wild


@settings(max_examples=examples(200), deadline=None)
@given(mart_batches())
def test_mart_fingerprints_are_duckdbs_hash_of_the_row(drawn: tuple[pa.RecordBatch, list[bool]]) -> None:
    """What lets DuckDB fingerprint its mart in SQL: the key hashes are DuckDB's hash(), and the
    fingerprints of rows whose categorical values are labels or null are DuckDB's hash() of the
    compared columns, combined with the key's as DuckDB combines hashes. A value outside the labels
    (which PostgreSQL and Spark code as unknown) never gives DuckDB's fingerprint, so it never matches."""
    batch, wild = drawn
    connection = duckdb.connect()
    connection.register("mart", pa.Table.from_batches([batch]))
    in_sql = [(key, combined(key, row)) for key, row in connection.sql(fingerprint_select("mart", LABELS)).fetchall()]
    keys, fingerprints = mart_fingerprints(batch, LABELS)
    assert keys.tolist() == [key for key, _ in in_sql]
    labelled = np.ones(batch.num_rows, np.bool_)
    for name, labels in LABELS.values().items():
        values = batch.column(name).to_pylist()
        labelled &= np.array([value is None or value in labels for value in values], np.bool_)
    assert labelled.sum() >= wild.count(False)
    for computed, (_, duckdb_fingerprint), is_labelled in zip(fingerprints.tolist(), in_sql, labelled, strict=True):
        assert (computed == duckdb_fingerprint) == bool(is_labelled)
    assert hashes_agree(connection, LABELS)


def test_the_ladder_refuses_type_codes_outside_its_tables() -> None:
    """The compiled ladder reads its tables unchecked: `reference_codes` checks the codes it is handed."""
    policy = PriorityScorer().policy
    ones = np.ones(2, np.int64)
    for codes in ([0, 3], [-1, 0]):
        with pytest.raises(ValueError, match="investor types"):
            reference_codes(
                policy,
                aum=ones,
                investments=ones,
                investments_known=np.ones(2, np.bool_),
                is_sfo=np.zeros(2, np.bool_),
                investor_type=np.array(codes, np.int64),
            )


# Run in a process of its own: the loops and modules this one has already loaded would hide what a check loads.
LOADED_BY_A_CHECK = """
import importlib.util, json, sys
# Installed here (for datacompy), where pyarrow would find it: a check must not import it all the same.
assert importlib.util.find_spec("pandas") is not None
from services.crm import kernels
from services.crm.arrow_check import compile_kernels
from services.crm.client_priority import PriorityScorer
from services.crm.duckdb_reader import verify_duckdb
from services.crm.warehouse import DuckDBWarehouse, Relations

numba_with_the_modules = "numba" in sys.modules

def loaded():
    return {name: len(loop.signatures) for name, loop in vars(kernels).items() if hasattr(loop, "signatures")}

compile_kernels()
before = loaded()
with DuckDBWarehouse(sys.argv[1]) as warehouse:
    report = verify_duckdb(warehouse.connection, Relations.for_schemas(), PriorityScorer())
irregular = report.rows_compared - report.rows_vouched
pandas = "pandas" in sys.modules
seen = {"before": before, "after": loaded(), "pandas": pandas, "numba_with_the_modules": numba_with_the_modules}
print(json.dumps({"ok": report.ok, "irregular": irregular, **seen}))
"""


@pytest.fixture(scope="module")
def loaded_by_a_check(sample_mart: DuckDBMart) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", LOADED_BY_A_CHECK, str(sample_mart.db_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return loaded


def test_compile_kernels_loads_every_kind_of_loop_a_check_runs(loaded_by_a_check: dict[str, Any]) -> None:
    """`make setup` fills numba's cache through compile_kernels. A check that met another kind of
    array (writable where it warmed read-only, another integer width) would compile that loop in
    the middle of the check, seconds each."""
    loaded = loaded_by_a_check
    assert loaded["ok"]
    assert loaded["irregular"] > 0  # the sample's messy rows take the scalar path too
    warmed = {name for name, count in loaded["before"].items() if count}
    assert {"plain_source_rows", "spelling_codes", "scored_rows", "row_fingerprints", "keyed_fingerprints"} <= warmed
    assert loaded["after"] == loaded["before"]


def test_a_duckdb_check_does_not_import_pandas(loaded_by_a_check: dict[str, Any]) -> None:
    """`pa.array` imports pandas where it is installed (0.2 s a process): the check builds its arrays
    through `arrow_arrays` instead."""
    assert loaded_by_a_check["ok"]
    assert loaded_by_a_check["pandas"] is False


def test_numba_loads_at_the_first_loop_not_with_the_modules(loaded_by_a_check: dict[str, Any]) -> None:
    """Importing numba and loading the loops takes 0.4 s, which a check spends while its engine
    already reads the source: importing the check's modules must not import numba."""
    assert loaded_by_a_check["numba_with_the_modules"] is False
    assert loaded_by_a_check["before"]["plain_source_rows"] > 0
