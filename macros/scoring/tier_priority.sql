{#- Allocation priority of a tier: 1 is served first. Python twin: client_priority.tier_priority. -#}
{% macro tier_priority(tier) %}
    {{- return(adapter.dispatch('tier_priority', 'crm_priority')(tier)) -}}
{% endmacro %}

{% macro default__tier_priority(tier) -%}
    case {{ tier }}
        when 'TIER_1_SFO' then 1
        when 'TIER_2_UHNW' then 2
        when 'TIER_3_RETAIL' then 3
    end
{%- endmacro %}
