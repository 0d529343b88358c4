{#-
    dbt's grants give SELECT on each mart but not USAGE on its schema, without
    which the role cannot reach any of them (an on-run-end hook). The schema is the
    one the models were built in (models_schema), which a publish renames into
    place, grants and all. The source schema is never granted. A no-op where the
    warehouse has no roles, and on a run that created no mart schema yet
    (`dbt seed` alone).
-#}
{% macro grant_bi_schema_usage() %}
    {{- return(adapter.dispatch('grant_bi_schema_usage', 'crm_priority')()) -}}
{% endmacro %}

{% macro default__grant_bi_schema_usage() %}
    {{- return('') -}}
{% endmacro %}

{% macro postgres__grant_bi_schema_usage() -%}
    {%- set role = crm_priority.validated_role_name(var('bi_role')) -%}
    {%- set schema = crm_priority.models_schema() -%}
    do $$
    begin
        if exists (select from pg_catalog.pg_namespace where nspname = '{{ schema | replace("'", "''") }}') then
            grant usage on schema {{ adapter.quote(schema) }} to {{ role }};
        end if;
    end
    $$
{%- endmacro %}
