{#- With the default source (the sample seed), load the seed before reading it. -#}
{% if var('crm_source_schema') is none -%}
-- depends_on: {{ ref('clients') }}
{% endif -%}
{%- set has_updated_at = crm_priority.relation_has_column(source('crm', 'clients'), 'updated_at') %}

with

source as (

    select * from {{ source('crm', 'clients') }}

),

renamed as (

    select
        ---------- ids
        {{ crm_priority.clean_text('client_id') }} as client_id,

        ---------- text
        {{ crm_priority.clean_text('client_name') }} as client_name,
        {{ crm_priority.clean_text('aum') }} as aum_text,
        {{ crm_priority.clean_text('is_sfo') }} as is_sfo_text,
        {{ crm_priority.clean_text('investor_type') }} as investor_type_text,
        {{ crm_priority.clean_text('investments') }} as investments_text,
        {% if has_updated_at -%}
            {{ crm_priority.clean_text('updated_at') }} as updated_at_text,
        {%- else -%}
            cast(null as {{ dbt.type_string() }}) as updated_at_text,
        {%- endif %}

        ---------- raw values exactly as received, for the rejects
        cast(client_id as {{ dbt.type_string() }}) as client_id_raw,
        cast(aum as {{ dbt.type_string() }}) as aum_raw,
        cast(is_sfo as {{ dbt.type_string() }}) as is_sfo_raw,
        cast(investor_type as {{ dbt.type_string() }}) as investor_type_raw,
        cast(investments as {{ dbt.type_string() }}) as investments_raw,
        {% if has_updated_at -%}
            cast(updated_at as {{ dbt.type_string() }}) as updated_at_raw,
        {%- else -%}
            cast(null as {{ dbt.type_string() }}) as updated_at_raw,
        {%- endif %}

        ---------- flags
        {{ has_updated_at }} as has_updated_at_column

    from source

),

typed as (

    select
        *,

        ---------- numerics
        {{ crm_priority.parse_amount('aum_text') }} as aum,
        {{ crm_priority.parse_amount('investments_text') }} as investments,

        ---------- booleans
        {{ crm_priority.parse_boolean('is_sfo_text') }} as is_sfo,

        ---------- categories
        {{ crm_priority.parse_investor_type('investor_type_text') }} as investor_type,

        ---------- timestamps
        {{ crm_priority.parse_timestamp('updated_at_text') }} as updated_at

    from renamed

)

select * from typed
