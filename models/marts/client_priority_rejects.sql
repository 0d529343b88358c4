with

rejected_clients as (

    select * from {{ ref('int_clients__validated') }}
    where reject_reason is not null

),

final as (

    select
        ---------- ids
        client_id,

        ---------- why
        reject_reason,

        ---------- raw values exactly as received
        client_id_raw,
        client_name,
        aum_raw,
        is_sfo_raw,
        investor_type_raw,
        investments_raw,
        updated_at_raw,

        ---------- timestamps
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }}) as rejected_at

    from rejected_clients

)

select * from final
