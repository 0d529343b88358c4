{#-
    Fails for each row whose priority is not the one its tier maps to.
    The mapping is given in the YAML, not taken from the tier_priority macro,
    so the test checks the macro rather than repeating it.
-#}
{% test priority_matches_tier(model, column_name, tier_column, priorities) %}

    {%- if priorities is not mapping or priorities | length == 0 -%}
        {{ exceptions.raise_compiler_error("priority_matches_tier: 'priorities' must map each tier to its priority") }}
    {%- endif %}

    select
        {{ tier_column }} as tier,
        {{ column_name }} as priority
    from {{ model }}
    where
        {{ column_name }} is null
        or {{ tier_column }} is null
        or case {{ tier_column }}
            {%- for tier, priority in priorities.items() %}
                when '{{ tier }}' then {{ priority | int }}
            {%- endfor %}
        end is distinct from {{ column_name }}

{% endtest %}
