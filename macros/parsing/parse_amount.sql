{#-
    Cleaned text to an exact money amount, rounded half away from zero to the
    cent; null when the text is not a finite amount below $10^16.
    Sub-cent digits are rounded before any threshold is compared, so
    "4999999.995" is $5,000,000.00 (docs/decisions/0002-amounts-as-text.md).

    Decided by the spelling, not by each engine's decimal cast (which loses digits
    or gives up at different lengths and exponents): the digits of the mantissa
    are shifted by the exponent as text, and only the at most 16 whole digits and
    the first 3 decimals (all that rounding to the cent can depend on) are cast.
    Python twin: raw_clients.parse_amount_text.
-#}
{% macro parse_amount(text_expr) %}
    {{- return(adapter.dispatch('parse_amount', 'crm_priority')(text_expr)) -}}
{% endmacro %}

{% macro default__parse_amount(text_expr) -%}
    {#- Without its sign, exponent marker lower-cased: "-1.5E3" -> "1.5e3". -#}
    {%- set unsigned -%}
        replace(
            case when substr({{ text_expr }}, 1, 1) in ('+', '-')
                then substr({{ text_expr }}, 2, length({{ text_expr }})) else {{ text_expr }} end,
            'E', 'e'
        )
    {%- endset -%}
    {%- set mantissa = 'split_part(' ~ unsigned ~ ", 'e', 1)" -%}
    {%- set exponent = 'cast(coalesce(nullif(split_part(' ~ unsigned ~ ", 'e', 2), ''), '0') as integer)" -%}
    {%- set fraction = 'split_part(' ~ mantissa ~ ", '.', 2)" -%}
    {#- The significant digits, and how many of them are whole (<= 0: the value is below 0.1). -#}
    {%- set digits = "regexp_replace(split_part(" ~ mantissa ~ ", '.', 1) || " ~ fraction ~ ", '^0+', '')" -%}
    {%- set whole_digits = '(' ~ exponent ~ ' - length(' ~ fraction ~ ') + length(' ~ digits ~ '))' -%}
    {#- The digits with zeros on both sides, so that the whole part and 3 decimals can be cut out. -#}
    {%- set padded -%}
        repeat('0', least(greatest(-{{ whole_digits }}, 0), 3)) || {{ digits }}
        || repeat('0', greatest({{ whole_digits }} - length({{ digits }}), 0) + 3)
    {%- endset -%}
    {%- set whole_length = 'greatest(' ~ whole_digits ~ ', 0)' -%}
    {%- set rounded -%}
        round(cast(
            '0' || substr({{ padded }}, 1, {{ whole_length }}) || '.' || substr({{ padded }}, {{ whole_length }} + 1, 3)
            as decimal(20, 3)
        ), 2)
    {%- endset -%}
    {#- Each branch only runs when the ones above it did not match (PostgreSQL's casts raise errors). -#}
    case
        when not {{ crm_priority.matches_pattern(text_expr, crm_priority.amount_pattern()) }} then null
        when {{ crm_priority.matches_pattern(text_expr, crm_priority.amount_out_of_range_pattern()) }} then null
        {#- The common spelling ("1250000.50") casts exactly on every engine. #}
        when {{ crm_priority.matches_pattern(text_expr, '[0-9]{1,16}([.][0-9]{1,2})?') }}
            then cast({{ text_expr }} as {{ crm_priority.money_type() }})
        when {{ digits }} = '' then cast(0 as {{ crm_priority.money_type() }})
        when {{ whole_digits }} > 16 then null
        when {{ rounded }} >= {{ crm_priority.money_limit() }} then null
        when substr({{ text_expr }}, 1, 1) = '-' then cast(-{{ rounded }} as {{ crm_priority.money_type() }})
        else cast({{ rounded }} as {{ crm_priority.money_type() }})
    end
{%- endmacro %}
