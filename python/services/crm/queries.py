"""The SQL every engine runs for the check: portable selects of the source, the mart and the rejects."""

from __future__ import annotations

from collections.abc import Iterable

from services.crm.raw_clients import RAW_COLUMNS
from services.crm.vectorized_reference import MONEY_COLUMNS
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
    selected = ", ".join(
        f"cast(cast({column} as decimal(38, 2)) * 100 as bigint) as {column}"
        if column in MONEY_COLUMNS and cents_in_sql
        else column
        for column in ("client_id", *COMPARED_COLUMNS)
    )
    return f"select {selected} from {relation}"


def rejects_select(relation: str) -> str:
    """Every compared column of the rejects."""
    return f"select {', '.join(REJECT_KEY_COLUMNS)} from {relation}"
