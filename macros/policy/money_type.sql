{#-
    The one type for money. 18 digits with 2 decimals holds up to
    $9,999,999,999,999,999.99, far beyond any client's AUM, and keeps the value
    in a 64-bit integer on DuckDB (wider decimals cost a 128-bit one).
    decimal(18, 2) is spelled the same on DuckDB, PostgreSQL and Spark.
-#}
{% macro money_type() %}
    {{- return('decimal(18, 2)') -}}
{% endmacro %}
