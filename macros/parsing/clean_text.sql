{#-
    A raw column as trimmed text, null when blank. Works whatever type the
    warehouse column has, so a typed client table and an all-text export parse
    alike. Only spaces are trimmed (Python twin: raw_clients.clean_text).
-#}
{% macro clean_text(column) %}
    {{- return(adapter.dispatch('clean_text', 'crm_priority')(column)) -}}
{% endmacro %}

{% macro default__clean_text(column) -%}
    nullif(trim(cast({{ column }} as {{ dbt.type_string() }})), '')
{%- endmacro %}
