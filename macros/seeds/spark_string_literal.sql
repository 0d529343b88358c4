{#-
    A Python value as a Spark SQL string literal, or null. Spark reads backslash
    escapes inside literals, so backslashes are escaped before quotes.
-#}
{% macro spark_string_literal(value) %}
    {%- if value is none -%}
        {{- return('null') -}}
    {%- endif -%}
    {{- return("'" ~ (value | string).replace('\\', '\\\\').replace("'", "\\'") ~ "'") -}}
{% endmacro %}
