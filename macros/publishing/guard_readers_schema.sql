{#-
    On a shared warehouse (PostgreSQL, Spark), readers query the target's schema, so
    only `crm-priority build` may put a build there: it writes a build schema, proves
    it row by row, then swaps it in. A hand-run `dbt run` or `dbt build` without
    var('crm_build_schema') would replace what readers see, unproven, and is refused
    before any SQL runs (an on-run-start hook). DuckDB builds a private working file
    that readers never open, so it needs no guard.
-#}
{% macro guard_readers_schema() %}
    {%- if execute and target.type in ('postgres', 'spark') and flags.WHICH in ('run', 'build', 'snapshot')
        and var('crm_build_schema', none) is none -%}
        {{ exceptions.raise_compiler_error(
            "dbt " ~ flags.WHICH ~ " --target " ~ target.name ~ " would write straight into schema '"
            ~ target.schema ~ "', which readers query. Run `crm-priority build --target " ~ target.name
            ~ "` (write, audit, publish), or build elsewhere with --vars '{crm_build_schema: "
            ~ target.schema ~ "_dev}'."
        ) }}
    {%- endif -%}
{% endmacro %}
