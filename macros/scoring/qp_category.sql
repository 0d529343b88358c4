{#-
    The Investment Company Act 2(a)(51) category a client is tested under. A
    Single Family Office counts as a family company, whatever investor_type says.
    Python twin: client_priority.qp_category.
-#}
{% macro qp_category(investor_type, is_sfo) %}
    {{- return(adapter.dispatch('qp_category', 'crm_priority')(investor_type, is_sfo)) -}}
{% endmacro %}

{% macro default__qp_category(investor_type, is_sfo) -%}
    case
        when {{ is_sfo }} then 'sfo_as_family_company'
        when {{ investor_type }} = 'family_company' then 'family_company'
        when {{ investor_type }} = 'entity' then 'entity'
        else 'natural_person'
    end
{%- endmacro %}
