{#- The first amount money_type() cannot hold ($10^16), as an exact literal. Python twin: raw_clients.MONEY_LIMIT. -#}
{% macro money_limit() %}
    {{- return("cast('10000000000000000' as decimal(38, 2))") -}}
{% endmacro %}
