{#- The tier a tier_reason puts the client in. Python twin: client_priority.client_tier. -#}
{% macro client_tier(tier_reason) %}
    {{- return(adapter.dispatch('client_tier', 'crm_priority')(tier_reason)) -}}
{% endmacro %}

{% macro default__client_tier(tier_reason) -%}
    case {{ tier_reason }}
        when 'single_family_office' then 'TIER_1_SFO'
        when 'aum_at_least_tier_1_min' then 'TIER_1_SFO'
        when 'aum_at_least_tier_2_min' then 'TIER_2_UHNW'
        when 'aum_below_tier_2_min' then 'TIER_3_RETAIL'
    end
{%- endmacro %}
