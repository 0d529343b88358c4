{#-
    Cleaned text in timestamp_pattern() to a timestamp; null when blank,
    malformed or not a real date and time. Whether the date exists is decided
    here, field by field, not left to each engine's parser (PostgreSQL's raises
    an error, DuckDB's and Spark's differ on hour 24): the same rule as Python's
    datetime.fromisoformat. Python twin: raw_clients.parse_timestamp_text.
-#}
{% macro parse_timestamp(text_expr) %}
    {{- return(adapter.dispatch('parse_timestamp', 'crm_priority')(text_expr)) -}}
{% endmacro %}

{% macro default__parse_timestamp(text_expr) -%}
    {%- set year = 'cast(substring(' ~ text_expr ~ ', 1, 4) as integer)' -%}
    {%- set month = 'cast(substring(' ~ text_expr ~ ', 6, 2) as integer)' -%}
    {%- set day = 'cast(substring(' ~ text_expr ~ ', 9, 2) as integer)' -%}
    {%- set is_leap_year = '(' ~ year ~ ' % 4 = 0 and (' ~ year ~ ' % 100 != 0 or ' ~ year ~ ' % 400 = 0))' -%}
    case
        when not {{ crm_priority.matches_pattern(text_expr, crm_priority.timestamp_pattern()) }} then null
        when
            {{ year }} >= 1
            and {{ month }} between 1 and 12
            and {{ day }} between 1 and case
                when {{ month }} = 2 and {{ is_leap_year }} then 29
                when {{ month }} = 2 then 28
                when {{ month }} in (4, 6, 9, 11) then 30
                else 31
            end
            and (length({{ text_expr }}) = 10 or cast(substring({{ text_expr }}, 12, 2) as integer) <= 23)
            and (length({{ text_expr }}) = 10 or cast(substring({{ text_expr }}, 15, 2) as integer) <= 59)
            and (length({{ text_expr }}) <= 16 or cast(substring({{ text_expr }}, 18, 2) as integer) <= 59)
            then cast(replace({{ text_expr }}, 'T', ' ') as {{ dbt.type_timestamp() }})
    end
{%- endmacro %}
