{#-
    Every var dbt_project.yml declares (the policy, max_reject_share, the what-if
    proposals, where the source lives and the build writes, the BI role). dbt has
    no API to list vars, so they are listed here, and a pytest test keeps this
    list equal to dbt_project.yml's `vars:`.
    The Python twin reads dbt_project.yml itself (policy.load_policy).
-#}
{% macro project_var_names() %}
    {{- return(crm_priority.policy_var_names() + [
        'max_reject_share',
        'whatif_tier_1_min_aum', 'whatif_tier_2_min_aum',
        'whatif_qp_min_investments_person', 'whatif_qp_min_investments_entity',
        'source_loaded_at_column', 'source_warn_after_hours', 'source_error_after_hours',
        'crm_source_schema', 'crm_source_table', 'crm_build_schema', 'bi_role',
    ]) -}}
{% endmacro %}
