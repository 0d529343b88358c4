{#-
    Whether a relation has a column (case-insensitive), read from the database at
    run time; false at parse time, when nothing is read.
-#}
{% macro relation_has_column(relation, column_name) %}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {{ return(column_name | lower in columns) }}
{% endmacro %}
