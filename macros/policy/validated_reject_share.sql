{#- The largest share of source rows that may be rejected before the build fails, as a string in [0, 1]. -#}
{% macro validated_reject_share() %}
    {%- set text = (var('max_reject_share', none) | string) | trim -%}
    {%- if not modules.re.fullmatch('(0(\\.[0-9]+)?|\\.[0-9]+|1(\\.0+)?)', text) -%}
        {{ exceptions.raise_compiler_error(
            "Var 'max_reject_share' must be a share between 0 and 1, such as \"0.05\"; got '" ~ text ~ "'."
        ) }}
    {%- endif -%}
    {{ return(text) }}
{% endmacro %}
