{#-
    Fails when the mart and its rejects do not account for every source row
    exactly once: count(source) = count(mart) + count(rejects).
-#}
{% test source_rows_conserved(model, rejects_model) %}

    with

    counts as (

        select
            (select count(*) from {{ source('crm', 'clients') }}) as source_rows,
            (select count(*) from {{ model }}) as mart_rows,
            (select count(*) from {{ rejects_model }}) as rejected_rows

    )

    select * from counts
    where source_rows != mart_rows + rejected_rows

{% endtest %}
