{#-
    A positive USD amount with at most two decimals and at most 16 integer digits (it must fit decimal(18, 2)).
    `raw` is the value to check (a var's value, or a proposed one for the what-if); the message names `var_name`.
    Python twin: services.crm.policy.normalized_policy_amount.
-#}
{% macro normalized_policy_amount(var_name, raw) %}
    {%- if raw is none -%}
        {{ exceptions.raise_compiler_error("Policy var '" ~ var_name ~ "' is not set: define it in dbt_project.yml.") }}
    {%- endif -%}
    {%- set text = (raw | string) | trim -%}
    {%- if raw is sameas true or raw is sameas false
        or not modules.re.fullmatch('[0-9]{1,16}(\\.[0-9]{1,2})?', text) -%}
        {{ exceptions.raise_compiler_error(
            "Policy var '" ~ var_name ~ "' must be a positive USD amount with at most two decimals, "
            ~ "such as \"5000000.00\"; got '" ~ text ~ "'."
        ) }}
    {%- endif -%}
    {%- set parts = text.split('.') -%}
    {%- set whole = parts[0] | int -%}
    {%- set cents = ((parts[1] if parts | length > 1 else '') ~ '00')[:2] -%}
    {%- set normalized = whole ~ '.' ~ cents -%}
    {%- if crm_priority.amount_in_cents(normalized) == 0 -%}
        {{ exceptions.raise_compiler_error("Policy var '" ~ var_name ~ "' must be a positive USD amount; got '" ~ text ~ "'.") }}
    {%- endif -%}
    {{ return(normalized) }}
{% endmacro %}
