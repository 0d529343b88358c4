{#-
    Qualified Purchaser status gained and lost under a policy what-if, per 2(a)(51)
    category: set whatif_<threshold> vars, then `dbt show` or `dbt compile` this.
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

categories as (

    {% for category in ['natural_person', 'family_company', 'sfo_as_family_company', 'entity'] -%}
        select '{{ category }}' as qp_category
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

changes as (

    select
        categories.qp_category,
        count(rescored.client_id) as client_count,
        count(case when rescored.current_is_qualified_purchaser then 1 end) as current_qualified_count,
        count(case when rescored.proposed_is_qualified_purchaser then 1 end) as proposed_qualified_count,
        count(
            case when rescored.proposed_is_qualified_purchaser and not rescored.current_is_qualified_purchaser then 1 end
        ) as gained_count,
        count(
            case when rescored.current_is_qualified_purchaser and not rescored.proposed_is_qualified_purchaser then 1 end
        ) as lost_count,
        coalesce(sum(
            case
                when
                    rescored.proposed_is_qualified_purchaser and not rescored.current_is_qualified_purchaser
                    then rescored.aum
                else 0
            end
        ), 0) as gained_aum,
        coalesce(sum(
            case
                when
                    rescored.current_is_qualified_purchaser and not rescored.proposed_is_qualified_purchaser
                    then rescored.aum
                else 0
            end
        ), 0) as lost_aum
    from categories
    left join rescored
        on categories.qp_category = rescored.qp_category
    group by categories.qp_category

),

final as (

    select
        ---------- ids
        cast(qp_category as {{ dbt.type_string() }}) as qp_category,

        ---------- numerics
        cast(client_count as bigint) as client_count,
        cast(current_qualified_count as bigint) as current_qualified_count,
        cast(proposed_qualified_count as bigint) as proposed_qualified_count,
        cast(gained_count as bigint) as gained_count,
        cast(lost_count as bigint) as lost_count,
        cast(gained_aum as {{ crm_priority.money_type() }}) as gained_aum,
        cast(lost_aum as {{ crm_priority.money_type() }}) as lost_aum,

        ---------- lineage
        cast('{{ crm_priority.policy_version(proposed) }}' as {{ dbt.type_string() }}) as proposed_policy_version

    from changes

)

select * from final
order by qp_category
