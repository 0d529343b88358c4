{#-
    The sample seed stands in for a loaded feed, so it carries the load timestamp a loader would
    stamp: the seed's post-hooks add the column and set it to the time of this load in every row.
    DuckDB copies a reloaded CSV into the existing table by position, so there the pre-hook drops
    the column first (DuckDB's views do not pin the columns they read; PostgreSQL's do, and it
    inserts a seed's columns by name, so there the column stays). The time is written as values,
    not as a column default: DuckDB 2.0 cannot replay a default of now() from its write-ahead log
    after a crash without downloading an extension, so a killed build would block the next one.
    Spark's Parquet tables cannot add a column in place: there the seed has no load timestamp
    and its freshness is not checked.
-#}
{% macro drop_seed_loaded_at(relation) %}
    {{ return(adapter.dispatch('drop_seed_loaded_at', 'crm_priority')(relation)) }}
{% endmacro %}

{% macro default__drop_seed_loaded_at(relation) %}
{% endmacro %}

{% macro duckdb__drop_seed_loaded_at(relation) %}
    alter table if exists {{ relation }} drop column if exists {{ var('source_loaded_at_column') }}
{% endmacro %}

{% macro add_seed_loaded_at(relation) %}
    {{ return(adapter.dispatch('add_seed_loaded_at', 'crm_priority')(relation)) }}
{% endmacro %}

{% macro default__add_seed_loaded_at(relation) %}
    alter table {{ relation }} add column if not exists {{ var('source_loaded_at_column') }} timestamp with time zone
{% endmacro %}

{% macro spark__add_seed_loaded_at(relation) %}
{% endmacro %}

{% macro stamp_seed_loaded_at(relation) %}
    {{ return(adapter.dispatch('stamp_seed_loaded_at', 'crm_priority')(relation)) }}
{% endmacro %}

{% macro default__stamp_seed_loaded_at(relation) %}
    update {{ relation }} set {{ var('source_loaded_at_column') }} = {{ dbt.current_timestamp() }}
{% endmacro %}

{% macro spark__stamp_seed_loaded_at(relation) %}
{% endmacro %}
