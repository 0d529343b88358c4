{{ config(grants=crm_priority.bi_grants()) }}

with

clients as (

    select * from {{ ref('client_priority') }}

),

final as (

    select
        ---------- ids
        client_id,

        ---------- client
        client_name,
        investor_type,
        is_sfo,

        ---------- qualified purchaser
        qp_category,
        qp_amount_tested,
        qp_threshold,
        is_qualified_purchaser,
        qp_basis,
        cast(
            case
                when qp_amount_tested >= qp_threshold then 0
                else qp_threshold - qp_amount_tested
            end as {{ crm_priority.money_type() }}
        ) as qp_shortfall,

        ---------- lineage
        policy_version

    from clients

)

select * from final
