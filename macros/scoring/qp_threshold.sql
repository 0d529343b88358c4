{#-
    Minimum investments to be a Qualified Purchaser in a 2(a)(51) category:
    $25M for entities (2(a)(51)(A)(iv)), $5M for natural persons and family
    companies ((i), (ii)). `policy` (from proposed_policy()) scores under other
    thresholds; by default the policy in force. Python twin: client_priority.qp_threshold.
-#}
{% macro qp_threshold(qp_category, policy=none) %}
    {{- return(adapter.dispatch('qp_threshold', 'crm_priority')(qp_category, policy)) -}}
{% endmacro %}

{% macro default__qp_threshold(qp_category, policy=none) -%}
    case {{ qp_category }}
        when 'entity' then {{ crm_priority.policy_amount('qp_min_investments_entity', policy) }}
        else {{ crm_priority.policy_amount('qp_min_investments_person', policy) }}
    end
{%- endmacro %}
