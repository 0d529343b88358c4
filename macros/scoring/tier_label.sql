{#-
    Display label of a tier for dashboards, with the thresholds in force, e.g.
    "Tier 1 — Single Family Office / $50M+". Python twin: client_priority.tier_label.
-#}
{% macro tier_label(tier) %}
    {{- return(adapter.dispatch('tier_label', 'crm_priority')(tier)) -}}
{% endmacro %}

{% macro default__tier_label(tier) -%}
    {%- set policy = crm_priority.validated_policy() -%}
    case {{ tier }}
        when 'TIER_1_SFO' then 'Tier 1 — Single Family Office / {{ crm_priority.usd_short(policy["tier_1_min_aum"]) }}+'
        when 'TIER_2_UHNW' then 'Tier 2 — Ultra High Net Worth / {{ crm_priority.usd_short(policy["tier_2_min_aum"]) }}+'
        when 'TIER_3_RETAIL' then 'Tier 3 — Retail / under {{ crm_priority.usd_short(policy["tier_2_min_aum"]) }}'
    end
{%- endmacro %}
