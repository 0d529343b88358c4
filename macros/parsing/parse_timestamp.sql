{#-
    Cleaned text in timestamp_pattern() to a timestamp in UTC; null when blank,
    malformed or not a real date and time. Whether the date exists is decided
    here, field by field, not left to each engine's parser (PostgreSQL's raises
    an error, DuckDB's and Spark's differ on hour 24): the same rule as Python's
    datetime.fromisoformat. Digits past the microsecond are dropped; a `Z` or
    `+HH[:MM[:SS]]` offset (hours up to 23) is subtracted to give UTC; without one
    the text is UTC already. With an offset, the first and last day of the
    calendar (0001-01-01, 9999-12-31) are refused: shifting them could leave the
    years every engine can hold. Python twin: raw_clients.parse_timestamp_text.
-#}
{% macro parse_timestamp(text_expr) %}
    {{- return(adapter.dispatch('parse_timestamp', 'crm_priority')(text_expr)) -}}
{% endmacro %}

{% macro default__parse_timestamp(text_expr) -%}
    {%- set year = 'cast(substring(' ~ text_expr ~ ', 1, 4) as integer)' -%}
    {%- set month = 'cast(substring(' ~ text_expr ~ ', 6, 2) as integer)' -%}
    {%- set day = 'cast(substring(' ~ text_expr ~ ', 9, 2) as integer)' -%}
    {%- set is_leap_year = '(' ~ year ~ ' % 4 = 0 and (' ~ year ~ ' % 100 != 0 or ' ~ year ~ ' % 400 = 0))' -%}
    {#- After the date and its separator: the time, then the zone ("14:05:00.5", "+02:00"). -#}
    {%- set time_and_zone = 'substr(' ~ text_expr ~ ', 12, length(' ~ text_expr ~ '))' -%}
    {%- set time = "regexp_replace(" ~ time_and_zone ~ ", '[Z+-].*', '')" -%}
    {%- set zone = 'substr(' ~ time_and_zone ~ ', length(' ~ time ~ ') + 1, length(' ~ text_expr ~ '))' -%}
    {%- set offset_digits = "replace(substr(" ~ zone ~ ", 2, length(" ~ zone ~ ")), ':', '')" -%}
    {%- set offset_hours = 'cast(substr(' ~ offset_digits ~ ', 1, 2) as integer)' -%}
    {%- set offset_minutes = "cast(coalesce(nullif(substr(" ~ offset_digits ~ ", 3, 2), ''), '0') as integer)" -%}
    {%- set offset_seconds = "cast(coalesce(nullif(substr(" ~ offset_digits ~ ", 5, 2), ''), '0') as integer)" -%}
    {#- "HH:MM:SS." and 6 decimals are 15 characters: the rest of the fraction is dropped. -#}
    {%- set local -%}
        cast(substr({{ text_expr }}, 1, 10) || ' ' || coalesce(nullif(substr({{ time }}, 1, 15), ''), '00:00')
            as {{ dbt.type_timestamp() }})
    {%- endset -%}
    {%- set offset = '(' ~ offset_hours ~ ' * 3600 + ' ~ offset_minutes ~ ' * 60 + ' ~ offset_seconds ~ ')' -%}
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
            and (length({{ time }}) <= 5 or cast(substring({{ text_expr }}, 18, 2) as integer) <= 59)
            then case
                when {{ zone }} in ('', 'Z') then {{ local }}
                when substr({{ text_expr }}, 1, 10) in ('0001-01-01', '9999-12-31') then null
                when {{ offset_hours }} > 23 or {{ offset_minutes }} > 59 or {{ offset_seconds }} > 59 then null
                when substr({{ zone }}, 1, 1) = '+' then {{ crm_priority.subtract_seconds(local, offset) }}
                else {{ crm_priority.subtract_seconds(local, '-' ~ offset) }}
            end
    end
{%- endmacro %}
