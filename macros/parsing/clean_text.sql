{#-
    A raw column as text with trimmed_whitespace() stripped from both ends, null
    when nothing is left. Works whatever type the warehouse column has, so a typed
    client table and an all-text export parse alike. Spelled as an explicit regular
    expression per engine, because DuckDB's, PostgreSQL's and Spark's trim() strip
    different characters (docs/decisions/0007-text-normalisation.md).
    Python twin: raw_clients.clean_text.
-#}
{% macro clean_text(column) %}
    {{- return(adapter.dispatch('clean_text', 'crm_priority')(column)) -}}
{% endmacro %}

{#- DuckDB: RE2, whose \A and \z anchor at the very start and end of the text. -#}
{% macro default__clean_text(column) -%}
    {%- set space = crm_priority.trimmed_whitespace_class('\\x{XXXX}') -%}
    nullif(
        regexp_replace(cast({{ column }} as {{ dbt.type_string() }}), '\A{{ space }}+|{{ space }}+\z', '', 'g'), ''
    )
{%- endmacro %}

{#- PostgreSQL: advanced regular expressions, where \Z is the very end of the text. -#}
{% macro postgres__clean_text(column) -%}
    {%- set space = crm_priority.trimmed_whitespace_class('\\uXXXX') -%}
    nullif(
        regexp_replace(cast({{ column }} as {{ dbt.type_string() }}), '\A{{ space }}+|{{ space }}+\Z', '', 'g'), ''
    )
{%- endmacro %}

{#-
    Spark: Java regular expressions, where \z is the very end ($ would also match before a
    final U+0085 or U+2028). Spark SQL unescapes string literals, so each backslash is doubled;
    its regexp_replace replaces every match.
-#}
{% macro spark__clean_text(column) -%}
    {%- set space = crm_priority.trimmed_whitespace_class('\\\\x{XXXX}') -%}
    nullif(
        regexp_replace(cast({{ column }} as {{ dbt.type_string() }}), '\\A{{ space }}+|{{ space }}+\\z', ''), ''
    )
{%- endmacro %}
