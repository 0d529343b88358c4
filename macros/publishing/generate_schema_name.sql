{#-
    dbt's schema naming, with one change: models and snapshots go to
    crm_priority.models_schema() (the build schema of a write-audit-publish build),
    while seeds keep dbt's default `<target schema>_<custom schema>` so the sample
    source stays where the source definition reads it.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if node.resource_type == 'seed' -%}
        {{ default__generate_schema_name(custom_schema_name, node) }}
    {%- elif custom_schema_name is none -%}
        {{ crm_priority.models_schema() }}
    {%- else -%}
        {{ crm_priority.models_schema() }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
