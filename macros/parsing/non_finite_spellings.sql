{#- How NaN and infinity appear in exports (compared after ascii_lower), as a SQL list. Python twin: raw_clients.NON_FINITE_SPELLINGS. -#}
{% macro non_finite_spellings() %}
    {%- set spellings = [] -%}
    {%- for sign in ['', '+', '-'] -%}
        {%- for word in ['nan', 'inf', 'infinity'] -%}
            {%- do spellings.append("'" ~ sign ~ word ~ "'") -%}
        {%- endfor -%}
    {%- endfor -%}
    {{- return(spellings | join(', ')) -}}
{% endmacro %}
