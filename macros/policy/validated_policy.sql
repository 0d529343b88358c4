{#-
    The policy thresholds, read from the vars and validated at compile time.
    Returns a dict of normalised amount strings ("50000000.00"). A bad value
    raises a compiler error that names the var, before any SQL runs: the values
    are inlined into SQL, so anything but a plain amount must never get through.
    `overrides` (policy var name -> value; a null value keeps the var) replaces some
    vars before validation, as dbt's --vars would: the what-if's proposed_policy().
    The Python twin is services.crm.policy.load_policy(overrides=...).
-#}
{% macro validated_policy(overrides=none) %}
    {%- set policy = {} -%}
    {%- for var_name in crm_priority.policy_var_names() -%}
        {%- set raw = var(var_name, none) -%}
        {%- if overrides is not none and overrides.get(var_name) is not none -%}
            {%- set raw = overrides[var_name] -%}
        {%- endif -%}
        {%- do policy.update({var_name: crm_priority.normalized_policy_amount(var_name, raw)}) -%}
    {%- endfor -%}
    {%- if crm_priority.amount_in_cents(policy['tier_1_min_aum']) <= crm_priority.amount_in_cents(policy['tier_2_min_aum']) -%}
        {{ exceptions.raise_compiler_error(
            "Policy var 'tier_1_min_aum' (" ~ policy['tier_1_min_aum'] ~ ") must be above 'tier_2_min_aum' ("
            ~ policy['tier_2_min_aum'] ~ "): otherwise no client could be Tier 2."
        ) }}
    {%- endif -%}
    {{ return(policy) }}
{% endmacro %}
