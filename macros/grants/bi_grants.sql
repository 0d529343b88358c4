{#-
    The grants config of a mart the BI tools read: SELECT for var('bi_role') where
    the warehouse has roles (PostgreSQL), nothing where it has none (a DuckDB file,
    a Spark session). Used as `config(grants=crm_priority.bi_grants())`.
-#}
{% macro bi_grants() %}
    {{- return(adapter.dispatch('bi_grants', 'crm_priority')()) -}}
{% endmacro %}

{% macro default__bi_grants() %}
    {{- return({}) -}}
{% endmacro %}

{% macro postgres__bi_grants() %}
    {{- return({'select': [crm_priority.validated_role_name(var('bi_role'))]}) -}}
{% endmacro %}
