{#-
    A normalised amount ("50000000.00") written for people: "$50M", "$2.5M", "$750K",
    "$1,234.56". Python twin: client_priority.usd_short.
-#}
{% macro usd_short(normalized_amount) %}
    {%- set cents = crm_priority.amount_in_cents(normalized_amount) -%}
    {%- set whole = cents // 100 -%}
    {%- if cents % 100 == 0 and whole >= 1000000 and whole % 10000 == 0 -%}
        {%- set text = '$' ~ crm_priority.trim_decimal(whole // 1000000, (whole % 1000000) // 10000) ~ 'M' -%}
    {%- elif cents % 100 == 0 and whole >= 1000 and whole % 10 == 0 -%}
        {%- set text = '$' ~ crm_priority.trim_decimal(whole // 1000, (whole % 1000) // 10) ~ 'K' -%}
    {%- else -%}
        {%- set text = '$' ~ '{:,}'.format(whole) ~ '.' ~ '%02d' | format(cents % 100) -%}
    {%- endif -%}
    {{ return(text) }}
{% endmacro %}
