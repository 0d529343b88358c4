{#- The threshold vars that make up the policy, in one list (the Python twin: policy.POLICY_VAR_NAMES). -#}
{% macro policy_var_names() %}
    {{ return(['tier_1_min_aum', 'tier_2_min_aum', 'qp_min_investments_person', 'qp_min_investments_entity']) }}
{% endmacro %}
