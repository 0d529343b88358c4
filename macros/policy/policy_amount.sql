{#-
    A policy threshold as an exact SQL decimal literal, e.g. policy_amount('tier_1_min_aum').
    `policy` is a dict from validated_policy() or proposed_policy(); by default the policy in force.
-#}
{% macro policy_amount(var_name, policy=none) %}
    {%- set policy = crm_priority.validated_policy() if policy is none else policy -%}
    {%- if var_name not in policy -%}
        {{ exceptions.raise_compiler_error("policy_amount: unknown policy var '" ~ var_name ~ "'; expected one of " ~ (policy.keys() | list)) }}
    {%- endif -%}
    cast('{{ policy[var_name] }}' as {{ crm_priority.money_type() }})
{%- endmacro %}
