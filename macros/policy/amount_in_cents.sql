{#- A normalised amount string ("5000000.00") as whole cents, for exact comparison in Jinja. -#}
{% macro amount_in_cents(normalized_amount) %}
    {%- set parts = normalized_amount.split('.') -%}
    {{ return((parts[0] | int) * 100 + (parts[1] | int)) }}
{% endmacro %}
