{#- A role name safe to inline into SQL, or a compiler error naming the var. -#}
{% macro validated_role_name(role) %}
    {%- if not modules.re.fullmatch('[a-z_][a-z0-9_]{0,62}', role | string) -%}
        {{ exceptions.raise_compiler_error("Var 'bi_role' must be a lower-case SQL identifier; got '" ~ role ~ "'.") }}
    {%- endif -%}
    {{ return(role) }}
{% endmacro %}
