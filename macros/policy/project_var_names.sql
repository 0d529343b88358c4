{#-
    Every var dbt_project.yml declares (the policy, max_reject_share, where the
    source lives, the BI role). dbt has no API to list vars, so they are listed
    here, and a pytest test keeps this list equal to dbt_project.yml's `vars:`.
    The Python twin reads dbt_project.yml itself (policy.load_policy).
-#}
{% macro project_var_names() %}
    {{- return(crm_priority.policy_var_names() + [
        'max_reject_share', 'crm_source_schema', 'crm_source_table', 'bi_role',
    ]) -}}
{% endmacro %}
