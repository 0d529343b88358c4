{#-
    The schema a build writes its models and snapshots into: var('crm_build_schema')
    when set, else the target's schema. `crm-priority build` sets it on PostgreSQL
    and Spark so a build lands where readers do not look until it has passed the
    row-by-row proof (write, audit, publish: docs/decisions/0008-write-audit-publish.md).
    Seeds (the sample source) stay in the target's `_raw` schema either way.
-#}
{% macro models_schema() %}
    {%- set build_schema = var('crm_build_schema', none) -%}
    {%- if build_schema is none -%}
        {{ return(target.schema) }}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[a-z_][a-z0-9_]{0,62}', build_schema | string) -%}
        {{ exceptions.raise_compiler_error(
            "Var 'crm_build_schema' must be a lower-case SQL identifier; got '" ~ build_schema ~ "'."
        ) }}
    {%- endif -%}
    {{ return(build_schema | string) }}
{% endmacro %}
