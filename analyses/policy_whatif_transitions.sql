{#-
    The tier transition matrix of a policy what-if: set whatif_<threshold> vars
    (e.g. --vars '{whatif_tier_1_min_aum: "75000000"}'), then `dbt show` or `dbt compile` this.
    `crm-priority whatif` prints the same numbers.
-#}
{%- set proposed = crm_priority.proposed_policy() -%}

with

clients as (

    select * from {{ ref('client_priority') }}

),

rescored as (

    {{ crm_priority.whatif_rescored_clients('clients', proposed) }}

),

tiers as (

    {% for tier in crm_priority.tier_names() -%}
        select '{{ tier }}' as tier
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

grid as (

    select
        current_tiers.tier as current_tier,
        proposed_tiers.tier as proposed_tier
    from tiers as current_tiers
    cross join tiers as proposed_tiers

),

transitions as (

    select
        grid.current_tier,
        grid.proposed_tier,
        count(rescored.client_id) as client_count,
        coalesce(sum(rescored.aum), 0) as total_aum
    from grid
    left join rescored
        on
            grid.current_tier = rescored.current_tier
            and grid.proposed_tier = rescored.proposed_tier
    group by grid.current_tier, grid.proposed_tier

),

final as (

    select
        ---------- ids
        cast(current_tier as {{ dbt.type_string() }}) as current_tier,
        cast(proposed_tier as {{ dbt.type_string() }}) as proposed_tier,

        ---------- numerics
        cast(client_count as bigint) as client_count,
        cast(total_aum as {{ crm_priority.money_type() }}) as total_aum,

        ---------- lineage
        cast('{{ crm_priority.policy_version(proposed) }}' as {{ dbt.type_string() }}) as proposed_policy_version

    from transitions

)

select * from final
order by current_tier, proposed_tier
