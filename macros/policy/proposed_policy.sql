{#-
    The policy a what-if proposes: each threshold var `NAME` replaced by the var
    `whatif_NAME` when that is set (null, the default, keeps the policy in force),
    validated exactly as validated_policy() validates the vars, with the same
    messages. Python twin: services.crm.whatif.proposed_policy.
-#}
{% macro proposed_policy() %}
    {%- set overrides = {} -%}
    {%- for var_name in crm_priority.policy_var_names() -%}
        {%- do overrides.update({var_name: var('whatif_' ~ var_name, none)}) -%}
    {%- endfor -%}
    {{ return(crm_priority.validated_policy(overrides)) }}
{% endmacro %}
