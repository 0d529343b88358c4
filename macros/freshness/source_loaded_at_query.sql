{#-
    The query dbt source freshness runs for the client table: the newest load timestamp
    (column `loaded_at`, var source_loaded_at_column) when the table carries one. A feed without
    that column has nothing to measure: the query reports it as loaded now (age 0, so freshness
    passes) and dbt logs a warning saying that it was not checked. Rendered at run time, so the
    column is looked up in the warehouse, not assumed.
    Python twin: none; services/crm/freshness.py runs it and reads dbt's verdict.
-#}
{% macro source_loaded_at_query(relation) %}
    {%- set column_name = var('source_loaded_at_column') -%}
    {%- if crm_priority.relation_has_column(relation, column_name) -%}
        select max({{ adapter.quote(column_name) }}) from {{ relation }}
    {%- else -%}
        {%- do exceptions.warn(
            "Source " ~ relation ~ " has no " ~ column_name ~ " column: its freshness is not checked."
        ) -%}
        select {{ dbt.current_timestamp() }}
    {%- endif -%}
{% endmacro %}
