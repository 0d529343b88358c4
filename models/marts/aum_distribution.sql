{{ config(grants=crm_priority.bi_grants()) }}

with

clients as (

    select * from {{ ref('client_priority') }}

),

bands as (

    select * from {{ ref('aum_bands') }}

),

tiers as (

    {% for tier in crm_priority.tier_names() -%}
        select '{{ tier }}' as tier
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

grid as (

    select
        tiers.tier,
        bands.band_order,
        bands.band_label,
        bands.min_aum,
        bands.max_aum
    from tiers
    cross join bands

),

clients_in_bands as (

    select
        grid.tier,
        grid.band_order,
        count(clients.client_id) as client_count,
        coalesce(sum(clients.aum), 0) as total_aum
    from grid
    left join clients
        on
            grid.tier = clients.tier
            and grid.min_aum <= clients.aum
            and (grid.max_aum is null or grid.max_aum > clients.aum)
    group by grid.tier, grid.band_order

),

final as (

    select
        ---------- ids
        grid.tier,
        grid.band_order,

        ---------- labels
        cast({{ crm_priority.tier_label('grid.tier') }} as {{ dbt.type_string() }}) as tier_label,
        cast({{ crm_priority.tier_priority('grid.tier') }} as integer) as priority,
        grid.band_label,

        ---------- numerics
        cast(grid.min_aum as {{ crm_priority.money_type() }}) as band_min_aum,
        cast(grid.max_aum as {{ crm_priority.money_type() }}) as band_max_aum,
        cast(clients_in_bands.client_count as integer) as client_count,
        cast(clients_in_bands.total_aum as {{ crm_priority.money_type() }}) as total_aum

    from grid
    inner join clients_in_bands
        on
            grid.tier = clients_in_bands.tier
            and grid.band_order = clients_in_bands.band_order

)

select * from final
