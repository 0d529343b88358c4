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
    {%- set unsigned = "regexp_replace(replace(" ~ text_expr ~ ", 'E', 'e'), '^[+-]', '')" -%}
    {%- set mantissa = 'split_part(' ~ unsigned ~ ", 'e', 1)" -%}
    {%- set exponent = 'cast(coalesce(nullif(split_part(' ~ unsigned ~ ", 'e', 2), ''), '0') as integer)" -%}
    {%- set fraction = 'split_part(' ~ mantissa ~ ", '.', 2)" -%}
    {#- The significant digits, and how many of them are whole (<= 0: the value is below 0.1). -#}
    {%- set digits = "regexp_replace(split_part(" ~ mantissa ~ ", '.', 1) || " ~ fraction ~ ", '^0+', '')" -%}
    {%- set whole_digits = '(' ~ exponent ~ ' - length(' ~ fraction ~ ') + length(' ~ digits ~ '))' -%}
    {#-
        The digits between 3 zeros and 19 (whole_digits is at most 16 here), so that the whole
        part and the first 3 decimals can be cut out: they start at `cut`.
    -#}
    {%- set padded = "('000' || " ~ digits ~ " || '0000000000000000000')" -%}
    {%- set cut = 'greatest(' ~ whole_digits ~ ' + 3, 0)' -%}
    {%- set rounded -%}
        round(cast(
            case when substr({{ text_expr }}, 1, 1) = '-' then '-' else '' end
            || substr({{ padded }}, 1, {{ cut }}) || '.' || substr({{ padded }}, {{ cut }} + 1, 3)
            as decimal(22, 3)
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
        {#- 9999999999999999.995 and above round to $10^16, which money_type() cannot hold. #}
        when {{ whole_digits }} = 16 and substr({{ padded }}, 4, 19) >= '9999999999999999995' then null
        else cast({{ rounded }} as {{ crm_priority.money_type() }})
    end
{%- endmacro %}
