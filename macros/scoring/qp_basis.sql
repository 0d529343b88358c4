{#- The category under which the client qualified, null when not qualified. Python twin: client_priority.qp_basis. -#}
{% macro qp_basis(is_qualified_purchaser, qp_category) %}
    {{- return(adapter.dispatch('qp_basis', 'crm_priority')(is_qualified_purchaser, qp_category)) -}}
{% endmacro %}

{% macro default__qp_basis(is_qualified_purchaser, qp_category) -%}
    case when {{ is_qualified_purchaser }} then {{ qp_category }} end
{%- endmacro %}
