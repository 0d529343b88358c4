{#-
    Text with the ASCII letters A-Z lower-cased and every other character kept:
    lower() folds non-ASCII letters differently on each engine ("ENTİTY" is "entity"
    on DuckDB), so spellings are compared in ASCII only and anything else is unknown
    (docs/decisions/0007-text-normalisation.md). translate() is spelled the same on
    DuckDB, PostgreSQL and Spark. Python twin: raw_clients.ascii_lower.
-#}
{% macro ascii_lower(text_expr) %}
    {{- return("translate(" ~ text_expr ~ ", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')") -}}
{% endmacro %}
