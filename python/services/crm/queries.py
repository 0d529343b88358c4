"""The SQL every engine runs for the check: portable selects of the source, the mart and the rejects."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from services.crm.raw_clients import RAW_COLUMNS
from services.crm.vectorized_reference import MONEY_COLUMNS, NULL_CODE, PACKED_COLUMNS, UNKNOWN_CODE, Labels
from services.crm.verification_report import COMPARED_COLUMNS, REJECT_KEY_COLUMNS


def source_select(relation: str, present: Iterable[str], text_type: str, text_columns: Iterable[str] = ()) -> str:
    """Every raw column as the text the staging model reads (cast to text, untrimmed; null when absent).

    Columns known to be text already are read as they are: DuckDB's cast of text to text still
    costs a fifth of the read.
    """
    columns = {column.lower() for column in present}
    already_text = {column.lower() for column in text_columns}

    def read(column: str) -> str:
        if column not in columns:
            return f"cast(null as {text_type}) as {column}"
        return column if column in already_text else f"cast({column} as {text_type}) as {column}"

    selected = ", ".join(read(column) for column in RAW_COLUMNS)
    return f"select {selected} from {relation}"


def mart_select(relation: str, cents_in_sql: bool = True) -> str:
    """The key and every compared column; money as exact integer cents, or as the mart's own decimal(18, 2).

    Cents in SQL for engines whose drivers hand decimals out as text (PostgreSQL's numeric over
    ADBC); widened first, as DuckDB keeps decimal(18, 2) for the product, which overflows above
    10^16. DuckDB hands out decimal128 as it stores it, whose unscaled integer is the cents
    (`fingerprints.cents`): the widening would cost it more than the rest of the read.
    """
    return f"select {mart_columns(cents_in_sql)} from {relation}"


def mart_columns(cents_in_sql: bool) -> str:
    """`mart_select`'s column list."""
    return ", ".join(
        cents_sql(column) if column in MONEY_COLUMNS and cents_in_sql else column
        for column in ("client_id", *COMPARED_COLUMNS)
    )


def cents_sql(column: str) -> str:
    """A decimal(18, 2) column as exact integer cents, named as the column (times 100 fits a bigint)."""
    return f"cast(cast({column} as decimal(38, 2)) * 100 as bigint) as {column}"


def fingerprint_select(relation: str, labels: Labels) -> str:
    """DuckDB: each row's key hash and the hash of its compared columns by DuckDB's own ``hash()``,
    which make its fingerprint (`fingerprints.keyed`)."""
    return f"select {fingerprint_columns(labels)} from {relation}"


def fingerprint_columns(labels: Labels) -> str:
    """`key_hash` and `row_hash`. Each compared column is hashed as the type the spec assumes (a cast
    to its own type costs nothing). The key is combined in Python: hashing it twice in SQL cost a
    tenth of the mart's pass."""
    typed = (f"cast({column} as {_fingerprint_type(column, labels)})" for column in COMPARED_COLUMNS)
    return f"hash(client_id) as key_hash, hash({', '.join(typed)}) as row_hash"


def _fingerprint_type(column: str, labels: Labels) -> str:
    if column in MONEY_COLUMNS:
        return "decimal(18, 2)"
    values = labels.values().get(column, ("",))
    return "boolean" if isinstance(values[0], bool) else "integer" if isinstance(values[0], int) else "varchar"


def rejects_select(relation: str) -> str:
    """Every compared column of the rejects."""
    return f"select {', '.join(REJECT_KEY_COLUMNS)} from {relation}"


def coded_mart_select(relation: str, labels: Labels, text_literal: Callable[[str], str]) -> str:
    """The key, the name and money in cents, and every other compared column as one `packed_codes` bigint.

    The engine maps each categorical value to its index in `labels` by exact equality (UNKNOWN_CODE for
    any other value, NULL_CODE for null), packed four bits a column as ``vectorized_reference.pack_codes``
    does: on Spark this spares moving seven text columns from the JVM to the Python workers.
    `text_literal` spells a text as the engine's string literal.
    """

    def literal(value: object) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value) if isinstance(value, int) else text_literal(str(value))

    def code(column: str) -> str:
        matches = " ".join(
            f"when {column} = {literal(value)} then {index}" for index, value in enumerate(labels.values()[column])
        )
        return f"case when {column} is null then {NULL_CODE} {matches} else {UNKNOWN_CODE} end"

    packed = " + ".join(
        f"cast({code(column)} as bigint) * {16**position}" for position, column in enumerate(PACKED_COLUMNS)
    )
    money = ", ".join(cents_sql(column) for column in MONEY_COLUMNS)
    return f"select client_id, client_name, {money}, {packed} as packed_codes from {relation}"
