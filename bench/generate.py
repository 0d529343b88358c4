"""Synthetic CRM exports of any size, generated inside DuckDB (no Python loop), shaped like the real feed."""

from __future__ import annotations

import duckdb

SOURCE_SCHEMA = "main_raw"
SOURCE_TABLE = f"{SOURCE_SCHEMA}.clients"
# The export's shape, as the sample and the real feed: every column text.
# AUM is lognormal around a $1.5M median (sigma 1.6 puts ~15% above $5M and ~1.5% above $50M),
# ~2% Single Family Offices, every investor type and spelling the parser accepts, investments
# known for ~40%, and ~0.1% of rows rejected (duplicate ids, junk amounts), far below max_reject_share.
GENERATE_SQL = """
create or replace table {table} as
with draws as (
    select
        i,
        1 - random() as u_aum,
        random() as u_angle,
        random() as u_sfo,
        random() as u_type,
        random() as u_investments,
        random() as u_junk
    from range({rows}) as t (i)
),

amounts as (
    select
        *,
        -- Box-Muller: a standard normal from two uniforms, so exp() of it is lognormal.
        least(exp(ln(1500000) + 1.6 * sqrt(-2 * ln(u_aum)) * cos(2 * pi() * u_angle)), 1e14) as aum_usd
    from draws
)

select
    'C' || lpad(cast(case when u_junk < 0.0005 and i > 0 then i - 1 else i end as varchar), 10, '0') as client_id,
    'Client ' || i as client_name,
    case
        when u_junk >= 0.9995 then 'n/a'
        else cast(cast(aum_usd as decimal(18, 2)) as varchar)
    end as aum,
    case
        when u_sfo < 0.015 then 'true'
        when u_sfo < 0.02 then 'Yes'
        when u_sfo < 0.6 then 'false'
        when u_sfo < 0.8 then ''
        else 'no'
    end as is_sfo,
    case
        when u_type < 0.6 then 'individual'
        when u_type < 0.7 then ' Individual '
        when u_type < 0.85 then 'family_company'
        when u_type < 0.95 then 'entity'
        else ''
    end as investor_type,
    case
        when u_investments < 0.4 then cast(cast(aum_usd * (0.5 + 2 * u_investments) as decimal(18, 2)) as varchar)
        when u_investments < 0.5 then ''
    end as investments
from amounts
"""


def generate_clients(connection: duckdb.DuckDBPyConnection, rows: int, seed: float = 0.42) -> None:
    """Replace the source table with `rows` synthetic clients."""
    connection.execute(f"create schema if not exists {SOURCE_SCHEMA}")
    connection.execute("select setseed(?)", [seed])
    connection.execute(GENERATE_SQL.format(table=SOURCE_TABLE, rows=int(rows)))
