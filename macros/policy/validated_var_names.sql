{#-
    Refuses a --vars key the project does not declare, naming it: a misspelt
    policy var ("tier1_min_aum") would otherwise be ignored and the build would
    run on the default threshold. Reads the command line's vars from
    invocation_args_dict (a mapping, or the YAML text dbt was given).
-#}
{% macro validated_var_names() %}
    {%- set given = invocation_args_dict.get('vars') or {} -%}
    {%- if given is string -%}
        {%- set given = fromyaml(given) or {} -%}
    {%- endif -%}
    {%- set known = crm_priority.project_var_names() -%}
    {%- for name in given.keys() | sort -%}
        {%- if name not in known -%}
            {{ exceptions.raise_compiler_error(
                "Unknown var '" ~ name ~ "' in --vars: the project declares " ~ (known | join(', '))
                ~ " (dbt_project.yml). A misspelt policy var would be ignored, so it is refused."
            ) }}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}
