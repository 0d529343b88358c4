{#- Qualified Purchaser: the amount tested meets the category's threshold (inclusive). Python twin: client_priority.is_qualified_purchaser. -#}
{% macro is_qualified_purchaser(qp_amount_tested, qp_threshold) %}
    {{- return(adapter.dispatch('is_qualified_purchaser', 'crm_priority')(qp_amount_tested, qp_threshold)) -}}
{% endmacro %}

{% macro default__is_qualified_purchaser(qp_amount_tested, qp_threshold) -%}
    ({{ qp_amount_tested }} >= {{ qp_threshold }})
{%- endmacro %}
