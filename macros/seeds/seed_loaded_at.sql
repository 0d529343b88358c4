{#-
    The sample seed stands in for a loaded feed, so it carries the load timestamp a loader would
    stamp: the seed's post-hook adds the column with the time of this load as its default, which
    fills every row. On reloads PostgreSQL inserts the CSV's columns by name, so the default
    stamps the new rows; DuckDB copies the CSV into the table by position, so there the pre-hook
    drops the column first (DuckDB's views do not pin the columns they read; PostgreSQL's do,
    which is why it keeps the column). Spark's Parquet tables cannot add a column with a default:
    there the seed has no load timestamp and its freshness is not checked.
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
    alter table {{ relation }}
    add column if not exists {{ var('source_loaded_at_column') }} timestamp with time zone
    default {{ dbt.current_timestamp() }}
{% endmacro %}

{% macro spark__add_seed_loaded_at(relation) %}
{% endmacro %}
