{#-
    Which tier rule fires for a client, first match wins. The tier itself is
    derived from this reason (client_tier), so the rule ladder is written once.
    Boundaries are inclusive: "$50M+" means aum >= tier_1_min_aum.
    `policy` (from proposed_policy()) scores under other thresholds; by default the policy in force.
    Python twin: services.crm.client_priority.tier_reason.
-#}
{% macro tier_reason(aum, is_sfo, policy=none) %}
    {{- return(adapter.dispatch('tier_reason', 'crm_priority')(aum, is_sfo, policy)) -}}
{% endmacro %}

{% macro default__tier_reason(aum, is_sfo, policy=none) -%}
    case
        when {{ is_sfo }} then 'single_family_office'
        when {{ aum }} >= {{ crm_priority.policy_amount('tier_1_min_aum', policy) }} then 'aum_at_least_tier_1_min'
        when {{ aum }} >= {{ crm_priority.policy_amount('tier_2_min_aum', policy) }} then 'aum_at_least_tier_2_min'
        else 'aum_below_tier_2_min'
    end
{%- endmacro %}
