{#-
    The amount tested for Qualified Purchaser status: the larger of AUM and the
    client's total investments (Rule 2a51-1). Total investments cannot be less
    than what we manage, so an unknown or smaller figure falls back to AUM.
    Python twin: client_priority.qp_amount_tested.
-#}
{% macro qp_amount_tested(aum, investments) %}
    {{- return(adapter.dispatch('qp_amount_tested', 'crm_priority')(aum, investments)) -}}
{% endmacro %}

{% macro default__qp_amount_tested(aum, investments) -%}
    case
        when {{ investments }} is not null and {{ investments }} > {{ aum }} then {{ investments }}
        else {{ aum }}
    end
{%- endmacro %}
