{{ config(grants=crm_priority.bi_grants()) }}

with

history as (

    -- Empty until a `dbt snapshot` or `dbt build` has kept the first version.
    {{ crm_priority.tier_history_or_empty(ref('client_tier_history')) }}

),

versions as (

    select
        client_id,
        client_name,
        tier,
        priority,
        is_qualified_purchaser,
        qp_basis,
        policy_version,
        dbt_valid_from,
        dbt_is_deleted,
        lag(tier) over (partition by client_id order by dbt_valid_from) as previous_tier,
        lag(priority) over (partition by client_id order by dbt_valid_from) as previous_priority,
        lag(is_qualified_purchaser) over (partition by client_id order by dbt_valid_from) as previous_is_qp,
        lag(qp_basis) over (partition by client_id order by dbt_valid_from) as previous_qp_basis,
        lag(policy_version) over (partition by client_id order by dbt_valid_from) as previous_policy_version,
        row_number() over (partition by client_id order by dbt_valid_from) as version_number

    from history

),

final as (

    select
        ---------- ids
        client_id,
        version_number,

        ---------- client
        client_name,

        ---------- change
        previous_tier as old_tier,
        tier as new_tier,
        previous_priority as old_priority,
        priority as new_priority,
        previous_is_qp as old_is_qualified_purchaser,
        is_qualified_purchaser as new_is_qualified_purchaser,
        previous_qp_basis as old_qp_basis,
        qp_basis as new_qp_basis,
        previous_policy_version as old_policy_version,
        policy_version as new_policy_version,

        ---------- timestamps
        dbt_valid_from as changed_at,

        ---------- kind
        case when dbt_is_deleted = 'True' then 'left_mart' else 'rescored' end as change_kind

    from versions
    -- The first version of a client is its arrival, not a change.
    where version_number > 1

)

select * from final
