{#-
    Run as the project's on-run-start hook: a bad or unknown var stops `dbt build`
    before it seeds or builds anything. Renders no SQL, so it costs nothing on the database.
-#}
{% macro validate_policy_vars() %}
    {%- if execute -%}
        {%- do crm_priority.validated_var_names() -%}
        {%- do crm_priority.validated_policy() -%}
        {%- do crm_priority.validated_reject_share() -%}
    {%- endif -%}
{% endmacro %}
