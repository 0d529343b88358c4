{#-
    Why cleaned amount text cannot be used, as a reject-reason suffix
    (missing, not_finite, not_numeric, out_of_range, negative), or null when it
    is a valid amount. `amount_expr` is parse_amount() of the same text (a column
    staging already computed, so the long parse is not spelled out twice).
    Python twin: raw_clients.parse_amount_text.
-#}
{% macro amount_problem(text_expr, amount_expr) %}
    {{- return(adapter.dispatch('amount_problem', 'crm_priority')(text_expr, amount_expr)) -}}
{% endmacro %}

{% macro default__amount_problem(text_expr, amount_expr) -%}
    case
        when {{ text_expr }} is null then 'missing'
        when {{ crm_priority.ascii_lower(text_expr) }} in ({{ crm_priority.non_finite_spellings() }}) then 'not_finite'
        when not {{ crm_priority.matches_pattern(text_expr, crm_priority.amount_pattern()) }} then 'not_numeric'
        when {{ amount_expr }} is null then 'out_of_range'
        when {{ amount_expr }} < 0 then 'negative'
    end
{%- endmacro %}
