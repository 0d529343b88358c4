{#- "50" from (50, 0), "2.5" from (2, 50), "2.05" from (2, 5): a whole part and two decimals, trailing zeros dropped. -#}
{% macro trim_decimal(whole, hundredths) %}
    {%- if hundredths == 0 -%}
        {{ return(whole | string) }}
    {%- endif -%}
    {{ return(whole ~ '.' ~ ('%02d' | format(hundredths)).rstrip('0')) }}
{% endmacro %}
