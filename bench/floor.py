"""The floor: the mart's logic as one hand-written DuckDB CREATE TABLE AS, without dbt.

Same parsing, validation and scoring as stg_crm__clients, int_clients__validated and
client_priority for a source without updated_at (the benchmark's), written as one statement
with one aggregate (the repeated client_ids) instead of three views' worth of CTEs. The policy's
values are inlined from services.crm.policy, as the macros inline them.
"""

from __future__ import annotations

from services.crm.client_priority import TIERS, tier_label
from services.crm.policy import Policy
from services.crm.raw_clients import (
    AMOUNT_OUT_OF_RANGE_PATTERN,
    AMOUNT_PATTERN,
    FALSE_SPELLINGS,
    INVESTOR_TYPES,
    MONEY_LIMIT,
    TRUE_SPELLINGS,
)

FLOOR_SQL = """
create or replace table {target} as
with cleaned as (
    select
        nullif(trim(cast(client_id as varchar)), '') as client_id,
        nullif(trim(cast(client_name as varchar)), '') as client_name,
        nullif(trim(cast(aum as varchar)), '') as aum_text,
        lower(nullif(trim(cast(is_sfo as varchar)), '')) as is_sfo_text,
        lower(nullif(trim(cast(investor_type as varchar)), '')) as investor_type_text,
        nullif(trim(cast(investments as varchar)), '') as investments_text
    from {source}
),

-- Only the repeated ids, so the anti-join below carries a small table, not every row.
repeated as (
    select client_id from cleaned where client_id is not null group by client_id having count(*) > 1
),

parsed as (
    select
        client_id,
        client_name,
        investments_text,
        {aum_wide} as aum_wide,
        {investments_wide} as investments_wide,
        case
            when is_sfo_text is null then false
            when is_sfo_text in ({true_spellings}) then true
            when is_sfo_text in ({false_spellings}) then false
        end as is_sfo,
        case
            when investor_type_text is null then 'individual'
            when investor_type_text in ({investor_types}) then investor_type_text
        end as investor_type
    from cleaned
    where client_id is not null and client_id not in (select client_id from repeated)
),

valid as (
    select
        client_id,
        client_name,
        cast(aum_wide as decimal(18, 2)) as aum,
        cast(investments_wide as decimal(18, 2)) as investments,
        is_sfo,
        investor_type
    from parsed
    where
        aum_wide >= 0 and aum_wide < {money_limit}
        and (investments_text is null or (investments_wide >= 0 and investments_wide < {money_limit}))
        and is_sfo is not null
        and investor_type is not null
),

scored as (
    select
        *,
        case
            when is_sfo then 'single_family_office'
            when aum >= {tier_1} then 'aum_at_least_tier_1_min'
            when aum >= {tier_2} then 'aum_at_least_tier_2_min'
            else 'aum_below_tier_2_min'
        end as tier_reason,
        case
            when is_sfo then 'sfo_as_family_company'
            when investor_type = 'family_company' then 'family_company'
            when investor_type = 'entity' then 'entity'
            else 'natural_person'
        end as qp_category,
        case when investments > aum then investments else aum end as qp_amount_tested
    from valid
)

select
    client_id,
    client_name,
    aum,
    investments,
    is_sfo,
    investor_type,
    case tier_reason when 'aum_at_least_tier_2_min' then 'TIER_2_UHNW' when 'aum_below_tier_2_min' then 'TIER_3_RETAIL'
        else 'TIER_1_SFO' end as tier,
    case tier_reason when 'aum_at_least_tier_2_min' then '{label_2}' when 'aum_below_tier_2_min' then '{label_3}'
        else '{label_1}' end as tier_label,
    case tier_reason when 'aum_at_least_tier_2_min' then 2 when 'aum_below_tier_2_min' then 3 else 1 end as priority,
    tier_reason,
    qp_category,
    qp_amount_tested,
    case when qp_category = 'entity' then {qp_entity} else {qp_person} end as qp_threshold,
    qp_amount_tested >= case when qp_category = 'entity' then {qp_entity} else {qp_person} end
        as is_qualified_purchaser,
    case when qp_amount_tested >= case when qp_category = 'entity' then {qp_entity} else {qp_person} end
        then qp_category end as qp_basis,
    '{policy_version}' as policy_version,
    cast(current_timestamp as timestamp) as scored_at
from scored
"""


def _money(amount: object) -> str:
    return f"cast('{amount}' as decimal(18, 2))"


def _parsed(text: str) -> str:
    return (
        f"case when regexp_full_match({text}, '{AMOUNT_PATTERN.pattern}')"
        f" and not regexp_full_match({text}, '{AMOUNT_OUT_OF_RANGE_PATTERN.pattern}')"
        f" then try_cast({text} as decimal(38, 2)) end"
    )


def _in_list(values: object) -> str:
    return ", ".join(f"'{value}'" for value in sorted(values))  # type: ignore[call-overload]


def floor_sql(policy: Policy, source: str, target: str) -> str:
    labels = [tier_label(tier, policy) for tier in TIERS]
    return FLOOR_SQL.format(
        target=target,
        source=source,
        aum_wide=_parsed("aum_text"),
        investments_wide=_parsed("investments_text"),
        true_spellings=_in_list(TRUE_SPELLINGS),
        false_spellings=_in_list(FALSE_SPELLINGS),
        investor_types=_in_list(INVESTOR_TYPES),
        money_limit=f"cast('{MONEY_LIMIT:f}' as decimal(38, 2))",
        tier_1=_money(policy.tier_1_min_aum),
        tier_2=_money(policy.tier_2_min_aum),
        qp_person=_money(policy.qp_min_investments_person),
        qp_entity=_money(policy.qp_min_investments_entity),
        label_1=labels[0],
        label_2=labels[1],
        label_3=labels[2],
        policy_version=policy.version,
    )
