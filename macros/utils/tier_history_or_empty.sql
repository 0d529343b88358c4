{#-
    The rows of the tier-history snapshot, or an empty history of the same shape when the
    snapshot does not exist yet: only `dbt snapshot` and `dbt build` create it, so `dbt run` on a
    fresh database builds client_tier_changes empty instead of failing. Looked up at run time;
    at parse time (and when linting) the empty form is rendered. The caller passes
    ref('client_tier_history'), so the lineage stays.
-#}
{% macro tier_history_or_empty(history) %}
    {%- set existing = adapter.get_relation(history.database, history.schema, history.identifier) if execute else none -%}
    {%- if existing is not none -%}
        select * from {{ history }}
    {%- else -%}
        select
            cast(null as {{ dbt.type_string() }}) as client_id,
            cast(null as {{ dbt.type_string() }}) as client_name,
            cast(null as {{ dbt.type_string() }}) as tier,
            cast(null as {{ dbt.type_int() }}) as priority,
            cast(null as {{ dbt.type_boolean() }}) as is_qualified_purchaser,
            cast(null as {{ dbt.type_string() }}) as qp_basis,
            cast(null as {{ dbt.type_string() }}) as policy_version,
            cast(null as {{ dbt.type_timestamp() }}) as dbt_valid_from,
            cast(null as {{ dbt.type_string() }}) as dbt_is_deleted
        where 1 = 0
    {%- endif -%}
{% endmacro %}
