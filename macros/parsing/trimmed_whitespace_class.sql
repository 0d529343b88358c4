{#-
    trimmed_whitespace() as a regular-expression character class in the engine's
    dialect: `escape` formats one code point as a hexadecimal escape (RE2 and Java
    `\x{00A0}`, PostgreSQL `\u00A0`). Used by clean_text().
-#}
{% macro trimmed_whitespace_class(escape) %}
    {%- set parts = [] -%}
    {%- for first, last in crm_priority.trimmed_whitespace() -%}
        {%- if first == last -%}
            {%- do parts.append(escape | replace('XXXX', '%04X' | format(first))) -%}
        {%- else -%}
            {%- do parts.append(
                escape | replace('XXXX', '%04X' | format(first)) ~ '-' ~ escape | replace('XXXX', '%04X' | format(last))
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return('[' ~ parts | join('') ~ ']') -}}
{% endmacro %}
