{#-
    Cleaned text to an exact money amount, rounded half away from zero to the
    cent; null when the text is not a finite amount below $10^16.
    Sub-cent digits are rounded before any threshold is compared, so
    "4999999.995" is $5,000,000.00 (docs/decisions/0002-amounts-as-text.md).
    Python twin: raw_clients.parse_amount_text.
-#}
{% macro parse_amount(text_expr) %}
    {{- return(adapter.dispatch('parse_amount', 'crm_priority')(text_expr)) -}}
{% endmacro %}

{% macro default__parse_amount(text_expr) -%}
    {#- Parse wide (36 integer digits), then narrow only what fits money_type(). -#}
    {%- set wide = 'try_cast(' ~ text_expr ~ ' as decimal(38, 2))' -%}
    case
        when {{ crm_priority.matches_pattern(text_expr, crm_priority.amount_pattern()) }}
            and not {{ crm_priority.matches_pattern(text_expr, crm_priority.amount_out_of_range_pattern()) }}
            and abs({{ wide }}) < {{ crm_priority.money_limit() }}
            then cast({{ wide }} as {{ crm_priority.money_type() }})
    end
{%- endmacro %}

{% macro postgres__parse_amount(text_expr) -%}
    {#-
        PostgreSQL has no try_cast and may evaluate the parts of one condition in any
        order, so the patterns guard the cast in an earlier branch of the case.
    -#}
    {%- set rounded = 'round(cast(' ~ text_expr ~ ' as numeric), 2)' -%}
    case
        when not {{ crm_priority.matches_pattern(text_expr, crm_priority.amount_pattern()) }} then null
        when {{ crm_priority.matches_pattern(text_expr, crm_priority.amount_out_of_range_pattern()) }} then null
        when abs({{ rounded }}) < {{ crm_priority.money_limit() }}
            then cast({{ rounded }} as {{ crm_priority.money_type() }})
    end
{%- endmacro %}
