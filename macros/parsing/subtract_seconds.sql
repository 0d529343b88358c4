{#- A timestamp minus a whole number of seconds, exactly (no rounding to the second). -#}
{% macro subtract_seconds(timestamp_expr, seconds_expr) %}
    {{- return(adapter.dispatch('subtract_seconds', 'crm_priority')(timestamp_expr, seconds_expr)) -}}
{% endmacro %}

{% macro default__subtract_seconds(timestamp_expr, seconds_expr) -%}
    ({{ timestamp_expr }} - to_seconds({{ seconds_expr }}))
{%- endmacro %}

{% macro postgres__subtract_seconds(timestamp_expr, seconds_expr) -%}
    ({{ timestamp_expr }} - make_interval(secs => {{ seconds_expr }}))
{%- endmacro %}

{% macro spark__subtract_seconds(timestamp_expr, seconds_expr) -%}
    ({{ timestamp_expr }} - make_dt_interval(0, 0, 0, {{ seconds_expr }}))
{%- endmacro %}
