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

-- The ids on more than one row, with what deciding between their copies needs. An aggregate and
-- a join against this short list, not windows over every row: a window carries every column
-- of the table through a sort, and most ids appear once. A missing client_id is keyed as ''
-- (clean_text never yields it), so missing ids count as one group, as a window partition would.
repeated_ids as (

    select
        coalesce(client_id, '') as id_key,
        count(*) as client_id_copies,
        max(updated_at) as latest_updated_at,
        -- Copies whose updated_at is there but unreadable: then no one can say which copy is newest.
        sum(case when updated_at_text is not null and updated_at is null then 1 else 0 end) as unreadable_copies

    from clients
    group by coalesce(client_id, '')
    having count(*) > 1

),

repeated_copies as (

    select
        repeated_ids.id_key,
        repeated_ids.client_id_copies,
        repeated_ids.latest_updated_at,
        repeated_ids.unreadable_copies,
        -- A repeated client_id is resolved only by one unique latest updated_at;
        -- ties or missing timestamps leave every copy ambiguous.
        sum(case when clients.updated_at = repeated_ids.latest_updated_at then 1 else 0 end) as latest_copies

    from repeated_ids
    inner join clients on coalesce(clients.client_id, '') = repeated_ids.id_key
    group by
        repeated_ids.id_key,
        repeated_ids.client_id_copies,
        repeated_ids.latest_updated_at,
        repeated_ids.unreadable_copies

),

checked as (

    select
        clients.*,
        {{ crm_priority.amount_problem('clients.aum_text', 'clients.aum') }} as aum_problem,
        case
            when clients.investments_text is not null then {{ crm_priority.amount_problem('clients.investments_text', 'clients.investments') }}
        end as investments_problem,
        -- An id on one row is its own latest copy: what the windows over one row would give.
        coalesce(repeated_copies.client_id_copies, 1) as client_id_copies,
        coalesce(repeated_copies.unreadable_copies, 0) as unreadable_copies,
        case
            when repeated_copies.id_key is null then clients.updated_at else repeated_copies.latest_updated_at
        end as latest_updated_at,
        case
            when repeated_copies.id_key is not null then repeated_copies.latest_copies
            when clients.updated_at is not null then 1
            else 0
        end as latest_copies

    from clients
    left join repeated_copies on coalesce(clients.client_id, '') = repeated_copies.id_key

),

validated as (

    select
        *,
        case
            when client_id is null then 'client_id_missing'
            -- One copy's updated_at cannot be read, so it may be the newest: publish none of them.
            when client_id_copies > 1 and unreadable_copies > 0 then 'updated_at_ambiguous'
            when client_id_copies > 1 and latest_copies != 1 then 'duplicate_client_id'
            when client_id_copies > 1 and updated_at is null then 'superseded_by_newer_row'
            when client_id_copies > 1 and updated_at < latest_updated_at then 'superseded_by_newer_row'
            when aum_problem is not null then {{ dbt.concat(["'aum_'", 'aum_problem']) }}
            when investments_problem is not null then {{ dbt.concat(["'investments_'", 'investments_problem']) }}
            when is_sfo is null then 'is_sfo_not_boolean'
            when investor_type is null then 'investor_type_unknown'
            when updated_at_text is not null and updated_at is null then 'updated_at_not_timestamp'
        end as reject_reason

    from checked

)

select * from validated
