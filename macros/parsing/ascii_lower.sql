{#-
    Text with the ASCII letters A-Z lower-cased and every other character kept:
    lower() folds non-ASCII letters differently on each engine ("ENTİTY" is "entity"
    on DuckDB), so spellings are compared in ASCII only and anything else is unknown
    (docs/decisions/0007-text-normalisation.md). translate() is spelled the same on
    DuckDB, PostgreSQL and Spark, but costs DuckDB and PostgreSQL ten to fifty times what their
    own spellings below cost. Python twin: raw_clients.ascii_lower.
-#}
{% macro ascii_lower(text_expr) %}
    {{- return(adapter.dispatch('ascii_lower', 'crm_priority')(text_expr)) -}}
{% endmacro %}

{% macro default__ascii_lower(text_expr) -%}
    translate({{ text_expr }}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
{%- endmacro %}

{#-
    DuckDB's translate() takes about 0.5 µs a value (4.8 s per 10M, several calls a row: most of
    the scoring build at 10M clients). On ASCII text (as many bytes as characters) lower() is
    exactly the ASCII rule, at a fiftieth of the cost; other text keeps translate().
-#}
{% macro duckdb__ascii_lower(text_expr) -%}
    case
        when strlen({{ text_expr }}) = length({{ text_expr }}) then lower({{ text_expr }})
        else {{ crm_priority.default__ascii_lower(text_expr) }}
    end
{%- endmacro %}

{#-
    PostgreSQL's translate() costs about 0.8 µs a value. lower() under the "C" collation folds the
    ASCII letters only, whatever the database's locale (a Turkish one would fold "I" to "ı"
    otherwise): the same rule, at a ninth of the cost.
-#}
{% macro postgres__ascii_lower(text_expr) -%}
    lower(({{ text_expr }}) collate "C")
{%- endmacro %}
