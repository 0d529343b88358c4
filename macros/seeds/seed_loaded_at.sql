{#-
    The sample seed stands in for a loaded feed, so it carries the load timestamp a loader would
    stamp: the seed's pre-hook drops the column (dbt reloads a seed into the existing table by
    position, from a CSV that has no such column), its post-hook adds it back with the time of
    this load in every row. Spark's Parquet tables cannot add a column with a default: there the
    seed has no load timestamp and its freshness is not checked.
-#}
{% macro drop_seed_loaded_at(relation) %}
    {{ return(adapter.dispatch('drop_seed_loaded_at', 'crm_priority')(relation)) }}
{% endmacro %}

{% macro default__drop_seed_loaded_at(relation) %}
    alter table if exists {{ relation }} drop column if exists {{ var('source_loaded_at_column') }}
{% endmacro %}

{% macro spark__drop_seed_loaded_at(relation) %}
{% endmacro %}

{% macro add_seed_loaded_at(relation) %}
    {{ return(adapter.dispatch('add_seed_loaded_at', 'crm_priority')(relation)) }}
{% endmacro %}

{% macro default__add_seed_loaded_at(relation) %}
    alter table {{ relation }}
    add column if not exists {{ var('source_loaded_at_column') }} timestamp with time zone
    default {{ dbt.current_timestamp() }}
{% endmacro %}

{% macro spark__add_seed_loaded_at(relation) %}
{% endmacro %}
