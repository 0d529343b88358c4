{#-
    Why cleaned amount text cannot be used, as a reject-reason suffix
    (missing, not_finite, not_numeric, out_of_range, negative), or null when it
    is a valid amount. Python twin: raw_clients.parse_amount_text.
-#}
{% macro amount_problem(text_expr) %}
    {{- return(adapter.dispatch('amount_problem', 'crm_priority')(text_expr)) -}}
{% endmacro %}

{% macro default__amount_problem(text_expr) -%}
    case
        when {{ text_expr }} is null then 'missing'
        when lower({{ text_expr }}) in ({{ crm_priority.non_finite_spellings() }}) then 'not_finite'
        when not {{ crm_priority.matches_pattern(text_expr, crm_priority.amount_pattern()) }} then 'not_numeric'
        when {{ crm_priority.parse_amount(text_expr) }} is null then 'out_of_range'
        when {{ crm_priority.parse_amount(text_expr) }} < 0 then 'negative'
    end
{%- endmacro %}
