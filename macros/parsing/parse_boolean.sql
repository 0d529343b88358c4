{#-
    Cleaned text to a boolean: true/t/yes/y/1 and false/f/no/n/0, any case of the ASCII letters;
    null text is false (not known to be an SFO); anything else is null, which
    validation rejects. Python twin: raw_clients.parse_boolean_text.
-#}
{% macro parse_boolean(text_expr) %}
    {{- return(adapter.dispatch('parse_boolean', 'crm_priority')(text_expr)) -}}
{% endmacro %}

{% macro default__parse_boolean(text_expr) -%}
    case
        when {{ text_expr }} is null then false
        when {{ crm_priority.ascii_lower(text_expr) }} in ('true', 't', 'yes', 'y', '1') then true
        when {{ crm_priority.ascii_lower(text_expr) }} in ('false', 'f', 'no', 'n', '0') then false
    end
{%- endmacro %}
