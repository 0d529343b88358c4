{#- Fails for each combination of `columns` that appears more than once: a compound primary key. -#}
{% test unique_combination_of_columns(model, columns) %}

    {%- if columns is string or columns | length < 2 -%}
        {{ exceptions.raise_compiler_error("unique_combination_of_columns: 'columns' must list at least two columns") }}
    {%- endif %}

    select
        {{ columns | join(', ') }},
        count(*) as copies
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1

{% endtest %}
