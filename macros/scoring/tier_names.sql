{#- Every tier, in priority order: the rows of charts that must show a tier even when it has no client. -#}
{% macro tier_names() %}
    {{- return(['TIER_1_SFO', 'TIER_2_UHNW', 'TIER_3_RETAIL']) -}}
{% endmacro %}
