{#- True when the whole of text_expr matches the regular expression `pattern` (no anchors needed). -#}
{% macro matches_pattern(text_expr, pattern) %}
    {{- return(adapter.dispatch('matches_pattern', 'crm_priority')(text_expr, pattern)) -}}
{% endmacro %}

{% macro default__matches_pattern(text_expr, pattern) -%}
    regexp_full_match({{ text_expr }}, '{{ pattern }}')
{%- endmacro %}

{% macro postgres__matches_pattern(text_expr, pattern) -%}
    ({{ text_expr }} ~ '^({{ pattern }})$')
{%- endmacro %}

{% macro spark__matches_pattern(text_expr, pattern) -%}
    ({{ text_expr }} rlike '^({{ pattern }})$')
{%- endmacro %}
