{#-
    Every client whose tier or Qualified Purchaser status changes under a policy
    what-if, largest AUM first: set whatif_<threshold> vars, then `dbt show` or
    `dbt compile` this. `crm-priority whatif --out FILE.csv` writes the same clients.
-#}
{%- set proposed = crm_priority.proposed_policy() -%}

with

clients as (

    select * from {{ ref('client_priority') }}

),

rescored as (

    {{ crm_priority.whatif_rescored_clients('clients', proposed) }}

),

final as (

    select
        ---------- ids
        client_id,

        ---------- client
        client_name,
        aum,
        qp_category,

        ---------- tier
        current_tier,
        proposed_tier,
        current_priority,
        cast(proposed_priority as integer) as proposed_priority,

        ---------- qualified purchaser
        current_is_qualified_purchaser,
        cast(proposed_is_qualified_purchaser as boolean) as proposed_is_qualified_purchaser

    from rescored
    where
        current_tier != proposed_tier
        or current_is_qualified_purchaser != proposed_is_qualified_purchaser

)

select * from final
order by aum desc, client_id asc
