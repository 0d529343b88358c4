{#-
    Fails the build when more than var('max_reject_share') of the source rows
    were rejected: a broken feed must stop a scheduled build rather than publish
    a client book with clients missing. A handful of rejects is normal and passes.
-#}
{% test reject_share_within_limit(model, rejects_model) %}

    {%- set max_share = crm_priority.validated_reject_share() %}

    with

    counts as (

        select
            (select count(*) from {{ model }}) as mart_rows,
            (select count(*) from {{ rejects_model }}) as rejected_rows

    )

    select
        mart_rows,
        rejected_rows
    from counts
    where rejected_rows > {{ max_share }} * (mart_rows + rejected_rows)

{% endtest %}
