{#-
    A short fingerprint of the thresholds that scored a row, so every mart row can
    be traced to the policy that produced it. services.crm.policy.Policy.version
    computes the same string from the same normalised values. `policy` is a dict
    from validated_policy() or proposed_policy(); by default the policy in force.
-#}
{% macro policy_version(policy=none) %}
    {%- set policy = crm_priority.validated_policy() if policy is none else policy -%}
    {%- set canonical = [] -%}
    {%- for var_name in crm_priority.policy_var_names() | sort -%}
        {%- do canonical.append(var_name ~ '=' ~ policy[var_name]) -%}
    {%- endfor -%}
    {{ return('policy-' ~ local_md5(canonical | join(';'))[:12]) }}
{% endmacro %}
