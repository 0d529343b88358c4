{#-
    Cleaned text to an investor type, any case; null text is 'individual'; an
    unknown value is null, which validation rejects. Python twin:
    raw_clients.parse_investor_type_text.
-#}
{% macro parse_investor_type(text_expr) %}
    {{- return(adapter.dispatch('parse_investor_type', 'crm_priority')(text_expr)) -}}
{% endmacro %}

{% macro default__parse_investor_type(text_expr) -%}
    case
        when {{ text_expr }} is null then 'individual'
        when {{ crm_priority.ascii_lower(text_expr) }} in ('individual', 'family_company', 'entity')
            then {{ crm_priority.ascii_lower(text_expr) }}
    end
{%- endmacro %}
