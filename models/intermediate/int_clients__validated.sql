{#-
    Every source row once, with the reason it cannot be scored (reject_reason),
    or null when it can. The mart takes the null ones, client_priority_rejects
    the others, so no row is ever dropped. Checks run in a fixed order and the
    first failing one is the reason. Python twin: services.crm.raw_clients.
-#}

with

clients as (

    select * from {{ ref('stg_crm__clients') }}

),

checked as (

    select
        *,
        {{ crm_priority.amount_problem('aum_text') }} as aum_problem,
        case
            when investments_text is not null then {{ crm_priority.amount_problem('investments_text') }}
        end as investments_problem,
        count(*) over (partition by client_id) as client_id_copies,
        max(updated_at) over (partition by client_id) as latest_updated_at

    from clients

),

ranked as (

    select
        *,
        -- A repeated client_id is resolved only by one unique latest updated_at;
        -- ties or missing timestamps leave every copy ambiguous.
        sum(case when updated_at = latest_updated_at then 1 else 0 end) over (partition by client_id) as latest_copies

    from checked

),

validated as (

    select
        *,
        case
            when client_id is null then 'client_id_missing'
            when client_id_copies > 1 and latest_copies != 1 then 'duplicate_client_id'
            when client_id_copies > 1 and updated_at is null then 'superseded_by_newer_row'
            when client_id_copies > 1 and updated_at < latest_updated_at then 'superseded_by_newer_row'
            when aum_problem is not null then {{ dbt.concat(["'aum_'", 'aum_problem']) }}
            when investments_problem is not null then {{ dbt.concat(["'investments_'", 'investments_problem']) }}
            when is_sfo is null then 'is_sfo_not_boolean'
            when investor_type is null then 'investor_type_unknown'
            when updated_at_text is not null and updated_at is null then 'updated_at_not_timestamp'
        end as reject_reason

    from ranked

)

select * from validated
