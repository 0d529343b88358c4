{{ config(grants=crm_priority.bi_grants()) }}

with

validated_clients as (

    select * from {{ ref('int_clients__validated') }}
    where reject_reason is null

),

tiered as (

    select
        *,
        {{ crm_priority.tier_reason('aum', 'is_sfo') }} as tier_reason,
        {{ crm_priority.qp_category('investor_type', 'is_sfo') }} as qp_category,
        {{ crm_priority.qp_amount_tested('aum', 'investments') }} as qp_amount_tested

    from validated_clients

),

scored as (

    select
        *,
        {{ crm_priority.client_tier('tier_reason') }} as tier,
        {{ crm_priority.qp_threshold('qp_category') }} as qp_threshold

    from tiered

),

qualified as (

    select
        *,
        {{ crm_priority.tier_priority('tier') }} as priority,
        {{ crm_priority.tier_label('tier') }} as tier_label,
        {{ crm_priority.is_qualified_purchaser('qp_amount_tested', 'qp_threshold') }} as is_qualified_purchaser

    from scored

),

final as (

    select
        ---------- ids
        cast(client_id as {{ dbt.type_string() }}) as client_id,

        ---------- client
        cast(client_name as {{ dbt.type_string() }}) as client_name,
        cast(aum as {{ crm_priority.money_type() }}) as aum,
        cast(investments as {{ crm_priority.money_type() }}) as investments,
        cast(is_sfo as boolean) as is_sfo,
        cast(investor_type as {{ dbt.type_string() }}) as investor_type,

        ---------- tier
        cast(tier as {{ dbt.type_string() }}) as tier,
        cast(tier_label as {{ dbt.type_string() }}) as tier_label,
        cast(priority as integer) as priority,
        cast(tier_reason as {{ dbt.type_string() }}) as tier_reason,

        ---------- qualified purchaser
        cast(qp_category as {{ dbt.type_string() }}) as qp_category,
        cast(qp_amount_tested as {{ crm_priority.money_type() }}) as qp_amount_tested,
        cast(qp_threshold as {{ crm_priority.money_type() }}) as qp_threshold,
        cast(is_qualified_purchaser as boolean) as is_qualified_purchaser,
        cast(
            {{ crm_priority.qp_basis('is_qualified_purchaser', 'qp_category') }}
            as {{ dbt.type_string() }}
        ) as qp_basis,

        ---------- lineage
        cast('{{ crm_priority.policy_version() }}' as {{ dbt.type_string() }}) as policy_version,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }}) as scored_at

    from qualified

)

select * from final
