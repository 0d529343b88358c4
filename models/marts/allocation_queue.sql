{{ config(grants=crm_priority.bi_grants()) }}

with

clients as (

    select * from {{ ref('client_priority') }}

),

final as (

    select
        ---------- ids
        client_id,

        ---------- order
        -- Priority first, then the larger book, then client_id so ties never reorder between builds.
        cast(dense_rank() over (order by priority asc, aum desc, client_id asc) as integer) as allocation_rank,
        priority,
        tier,
        tier_label,

        ---------- client
        client_name,
        aum,

        ---------- eligibility
        is_qualified_purchaser as is_private_fund_eligible,
        qp_basis

    from clients

)

select * from final
