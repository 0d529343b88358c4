{#- Cleaned text in timestamp_pattern() to a timestamp; null when blank, malformed or not a real date. -#}
{% macro parse_timestamp(text_expr) %}
    {{- return(adapter.dispatch('parse_timestamp', 'crm_priority')(text_expr)) -}}
{% endmacro %}

{% macro default__parse_timestamp(text_expr) -%}
    case
        when {{ crm_priority.matches_pattern(text_expr, crm_priority.timestamp_pattern()) }}
            then try_cast(replace({{ text_expr }}, 'T', ' ') as {{ dbt.type_timestamp() }})
    end
{%- endmacro %}
