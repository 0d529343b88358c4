{#-
    The BI role must exist before dbt's grants name it (an on-run-start hook).
    A no-op where the warehouse has no roles.
-#}
{% macro create_bi_role() %}
    {{- return(adapter.dispatch('create_bi_role', 'crm_priority')()) -}}
{% endmacro %}

{% macro default__create_bi_role() %}
    {{- return('') -}}
{% endmacro %}

{% macro postgres__create_bi_role() -%}
    {%- set role = crm_priority.validated_role_name(var('bi_role')) -%}
    do $$
    begin
        if not exists (select from pg_catalog.pg_roles where rolname = '{{ role }}') then
            create role {{ role }} nologin;
        end if;
    end
    $$
{%- endmacro %}
